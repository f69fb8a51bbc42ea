// The profile page: the account's e-mail and role, the display name, a password change, and personal API keys for
// the other tools a person connects (an OpenAI client, an MCP client): created with a name and scope, the secret
// shown once, listed and revoked here.

import { api } from "./api.js";
import { confirmDialog, formatDate, h, mount, toast } from "./dom.js";
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

  const keyName = h("input", { id: "key-name", name: "name", maxlength: 100, autocomplete: "off", placeholder: "e.g. Open WebUI on my laptop" });
  const keyScope = h(
    "select",
    { id: "key-scope", name: "scope" },
    h("option", { value: "chat" }, "Ask and search (chat)"),
    h("option", { value: "read" }, "Search and read only"),
  );
  const keyCreate = h("button", { id: "key-create", type: "submit" }, "Create key");
  const keyError = h("div", { id: "key-error", class: "error", role: "alert", hidden: true });
  const keySecret = h("div", { id: "key-secret", class: "key-secret", hidden: true });
  const keyList = h("ul", { id: "key-list", class: "key-list" });
  const keyForm = h(
    "form",
    { id: "key-form", novalidate: true, on: { submit: createKey } },
    field("Name", keyName, "Which tool it is for, so you know what to revoke."),
    field("Scope", keyScope),
    keyError,
    h("div", { class: "actions" }, keyCreate),
  );
  const origin = window.location.origin;

  async function loadKeys() {
    try {
      const { keys } = await api("/api/auth/api-keys");
      mount(
        keyList,
        keys.length
          ? keys.map((key) =>
              h(
                "li",
                { class: ["key", key.status !== "active" && "inactive"], dataset: { key: key.id } },
                h("div", null, h("strong", null, key.name), " ", h("span", { class: "badge" }, key.scope), " ", h("span", { class: "muted" }, key.status)),
                h("div", { class: "muted" }, `created ${formatDate(key.created_at, false)}, ${key.status === "active" ? "expires" : key.status} ${formatDate(key.revoked_at || key.expires_at, false)}`),
                key.status === "active"
                  ? h("button", { type: "button", class: "secondary", "aria-label": `Revoke ${key.name}`, on: { click: () => revokeKey(key) } }, "Revoke")
                  : null,
              ),
            )
          : [h("li", { class: "muted" }, "No API keys yet.")],
      );
    } catch (error) {
      mount(keyList, h("li", { class: "error" }, "The keys could not be loaded: " + (error.message || error)));
    }
  }

  async function createKey(event) {
    event.preventDefault();
    clearFieldErrors(keyForm, keyError);
    keyCreate.disabled = true;
    try {
      const key = await api("/api/auth/api-keys", { method: "POST", json: { name: keyName.value.trim(), scope: keyScope.value } });
      keyName.value = "";
      mount(
        keySecret,
        h("p", null, h("strong", null, "Copy this key now: it is shown only once."), " Use it as the API key of an OpenAI client (base URL ", h("code", null, origin + "/v1"), ") or as the bearer token of an MCP client (", h("code", null, origin + "/mcp"), ")."),
        h("input", { id: "key-value", readonly: true, value: key.key, "aria-label": "The new API key", on: { focus: (e) => e.target.select() } }),
      );
      keySecret.hidden = false;
      toast("The key is created.", "success");
      await loadKeys();
    } catch (error) {
      showFieldError(keyForm, error, keyError);
    } finally {
      keyCreate.disabled = false;
    }
  }

  async function revokeKey(key) {
    if (!(await confirmDialog(`Revoke “${key.name}”?`, "The tools that use it stop working at once.", "Revoke", true))) return;
    try {
      await api(`/api/auth/api-keys/${encodeURIComponent(key.id)}`, { method: "DELETE" });
      toast("The key is revoked.", "success");
      keySecret.hidden = true;
      await loadKeys();
    } catch (error) {
      toast("The key could not be revoked: " + (error.message || error), "error");
    }
  }

  loadKeys();

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
      h(
        "section",
        { class: "card", id: "api-keys", "aria-labelledby": "keys-heading" },
        h("h2", { id: "keys-heading" }, "API keys"),
        h("p", { class: "muted" }, "For other tools that ask Omnifin with your rights: OpenAI-compatible chat clients and MCP assistants. A key cannot change your account."),
        keyForm,
        keySecret,
        keyList,
      ),
    ),
  );
}
