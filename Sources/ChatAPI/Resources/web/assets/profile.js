// The profile page: the account's e-mail and role, the display name, and a password change.

import { api } from "./api.js";
import { formatDate, h, mount, toast } from "./dom.js";
import { clearFieldErrors, field, showFieldError } from "./ui.js";

const ROLES = {
  user: "User: can ask questions and browse the knowledge bank.",
  editor: "Editor: can also add, change, delete and import knowledge entries.",
  admin: "Admin: can also manage users, prompts and see the analytics.",
};

export function profilePage(main, route, app) {
  document.title = "Profile · Omnifin";
  const user = app.user;

  const name = h("input", { id: "profile-name", name: "display_name", autocomplete: "name", required: true, maxlength: 100, value: user.display_name });
  const nameSave = h("button", { id: "profile-save", type: "submit" }, "Save name");
  const nameError = h("div", { id: "profile-error", class: "error", role: "alert", hidden: true });
  const nameForm = h(
    "form",
    { id: "profile-form", novalidate: true, on: { submit: saveName } },
    field("Display name", name, "Shown in the top bar and to admins."),
    nameError,
    h("div", { class: "actions" }, nameSave),
  );

  const current = h("input", { id: "password-current", name: "current_password", type: "password", autocomplete: "current-password", required: true });
  const next = h("input", { id: "password-new", name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 10 });
  const passwordSave = h("button", { id: "password-save", type: "submit" }, "Change password");
  const passwordError = h("div", { id: "password-error", class: "error", role: "alert", hidden: true });
  const passwordForm = h(
    "form",
    { id: "password-form", novalidate: true, on: { submit: savePassword } },
    field("Current password", current),
    field("New password", next, "At least 10 characters; not a common password. Your other sessions are signed out."),
    passwordError,
    h("div", { class: "actions" }, passwordSave),
  );

  async function saveName(event) {
    event.preventDefault();
    clearFieldErrors(nameForm, nameError);
    nameSave.disabled = true;
    try {
      const updated = await api("/api/auth/profile", { method: "PUT", json: { display_name: name.value.trim() } });
      app.setUser(updated);
      name.value = updated.display_name;
      toast("Your name is saved.", "success");
    } catch (error) {
      showFieldError(nameForm, error, nameError);
    } finally {
      nameSave.disabled = false;
    }
  }

  async function savePassword(event) {
    event.preventDefault();
    clearFieldErrors(passwordForm, passwordError);
    passwordSave.disabled = true;
    try {
      await api("/api/auth/profile", { method: "PUT", json: { current_password: current.value, new_password: next.value } });
      current.value = "";
      next.value = "";
      toast("Your password is changed. Your other sessions were signed out.", "success");
    } catch (error) {
      // The server's wording names the JSON field; say it for people.
      const shown = error.code === "wrong_password" ? { field: "current_password", message: "the current password is wrong" } : error;
      showFieldError(passwordForm, shown, passwordError);
    } finally {
      passwordSave.disabled = false;
    }
  }

  mount(
    main,
    h("h1", null, "Your profile"),
    h(
      "div",
      { class: "profile-grid" },
      h(
        "section",
        { class: "card", "aria-labelledby": "account-heading" },
        h("h2", { id: "account-heading" }, "Account"),
        h(
          "dl",
          { class: "entry-meta" },
          h("dt", null, "E-mail"),
          h("dd", { id: "profile-email" }, user.email),
          h("dt", null, "Role"),
          h("dd", { id: "profile-role" }, h("span", { class: "badge" }, user.role), " ", ROLES[user.role] || ""),
          user.groups && user.groups.length ? [h("dt", null, "Groups"), h("dd", null, user.groups.join(", "))] : null,
          h("dt", null, "Member since"),
          h("dd", null, formatDate(user.created_at, false)),
        ),
        nameForm,
      ),
      h("section", { class: "card", "aria-labelledby": "password-heading" }, h("h2", { id: "password-heading" }, "Password"), passwordForm),
    ),
  );
}
