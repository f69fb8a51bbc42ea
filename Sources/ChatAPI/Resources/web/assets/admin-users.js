// #/users: find, create, change, disable and delete accounts. Every change goes straight to the API; when the
// server refuses (your own role, the last admin …) the row goes back to what it was and the server's message shows.

import { api } from "./api.js";
import { $, confirmDialog, formatDate, formatNumber, h, mount, toast } from "./dom.js";
import { clearFieldErrors, debounce, field, isAbort, labelCells, pageHeader, rememberUsers, showFieldError } from "./admin-common.js";

const PAGE_SIZE = 20;
const ROLES = ["user", "editor", "admin"];

function statusOf(user) {
  if (user.disabled) return { label: "disabled", kind: "bad" };
  if (!user.verified) return { label: "unverified", kind: "warn" };
  return { label: "active", kind: "" };
}

function option(value, label, selected) {
  return h("option", { value, selected }, label);
}

export async function render(container, context) {
  const state = { q: "", role: "", status: "", offset: 0, total: 0 };
  const { signal } = context;

  // --- Filters ---
  const search = h("input", { id: "user-search", type: "search", name: "q", autocomplete: "off", placeholder: "Name or e-mail" });
  const roleFilter = h(
    "select",
    { id: "user-role-filter", name: "role" },
    option("", "Any role"),
    ROLES.map((role) => option(role, role)),
  );
  const statusFilter = h(
    "select",
    { id: "user-status-filter", name: "status" },
    option("", "Any status"),
    ["active", "unverified", "disabled"].map((status) => option(status, status)),
  );
  const filters = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter users" },
    h("div", { class: "field grow" }, h("label", { for: "user-search" }, "Search"), search),
    h("div", { class: "field" }, h("label", { for: "user-role-filter" }, "Role"), roleFilter),
    h("div", { class: "field" }, h("label", { for: "user-status-filter" }, "Status"), statusFilter),
  );
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    state.q = search.value.trim();
    state.offset = 0;
    load();
  });

  // --- Table and pager ---
  const status = h("p", { id: "users-status", class: "visually-hidden", role: "status", "aria-live": "polite" });
  // The last refusal stays here; the toast (a live region) is what announces it, so this is no alert of its own.
  const error = h("p", { id: "users-error", class: "error", hidden: true });
  const tbody = h("tbody");
  const table = h(
    "table",
    { id: "users-table" },
    h("caption", { class: "visually-hidden" }, "Users (role changes take effect at once)"),
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        ["Name", "E-mail", "Role", "Status", "Groups", "Created", "Actions"].map((title) => h("th", { scope: "col" }, title)),
      ),
    ),
    tbody,
  );
  const prev = h("button", { type: "button", id: "users-prev", class: "secondary" }, "Previous");
  const next = h("button", { type: "button", id: "users-next", class: "secondary" }, "Next");
  const pageLabel = h("span", { id: "users-page", class: "muted" });
  prev.addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - PAGE_SIZE);
    load();
  });
  next.addEventListener("click", () => {
    state.offset += PAGE_SIZE;
    load();
  });

  const createButton = h("button", { type: "button", id: "user-create" }, "Create user");

  mount(
    container,
    pageHeader("Users", "Accounts, roles and access. Changes are e-mailed to the person and recorded in the audit log.", createButton),
    filters,
    error,
    status,
    h("div", { class: "table-wrap card flush" }, table),
    h("nav", { class: "pager row", "aria-label": "Pages of users" }, prev, pageLabel, next),
  );

  // After creating someone, show just them, so the new row is on screen whatever page it would fall on.
  const dialog = createDialog(context, (user) => {
    search.value = user.email;
    roleFilter.value = statusFilter.value = "";
    Object.assign(state, { q: user.email, role: "", status: "", offset: 0 });
    return load();
  });
  container.appendChild(dialog.element);
  createButton.addEventListener("click", () => dialog.open(createButton));

  const searchLater = debounce(() => {
    state.q = search.value.trim();
    state.offset = 0;
    load();
  }, 300);
  search.addEventListener("input", searchLater);
  roleFilter.addEventListener("change", () => {
    state.role = roleFilter.value;
    state.offset = 0;
    load();
  });
  statusFilter.addEventListener("change", () => {
    state.status = statusFilter.value;
    state.offset = 0;
    load();
  });

  function hideError() {
    error.hidden = true;
    error.replaceChildren();
  }

  function fail(problem) {
    if (isAbort(problem)) return;
    mount(error, problem.message || String(problem));
    error.hidden = false;
    toast(problem.message || String(problem), "error");
  }

  function updatePager() {
    const first = state.total === 0 ? 0 : state.offset + 1;
    const last = Math.min(state.offset + PAGE_SIZE, state.total);
    pageLabel.textContent = `${formatNumber(first)}–${formatNumber(last)} of ${formatNumber(state.total)}`;
    prev.disabled = state.offset === 0;
    next.disabled = state.offset + PAGE_SIZE >= state.total;
  }

  // Requests can overtake each other while typing; only the newest answer is drawn.
  let generation = 0;
  async function load() {
    const mine = ++generation;
    const query = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(state.offset) });
    if (state.q) query.set("q", state.q);
    if (state.role) query.set("role", state.role);
    if (state.status) query.set("status", state.status);
    table.setAttribute("aria-busy", "true");
    try {
      const page = await api(`/api/admin/users?${query}`, { signal });
      if (mine !== generation) return;
      // Deleting the last user of a page leaves it empty: step back a page.
      if (page.users.length === 0 && page.total > 0 && state.offset > 0) {
        state.offset = Math.max(0, Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE);
        return load();
      }
      rememberUsers(page.users);
      state.total = page.total;
      mount(tbody, page.users.length ? page.users.map(row) : h("tr", null, h("td", { colspan: "7", class: "muted" }, "No users match.")));
      labelCells(table);
      updatePager();
      const what = [state.q && `“${state.q}”`, state.role && `role ${state.role}`, state.status].filter(Boolean).join(", ");
      status.textContent = `${formatNumber(page.total)} ${page.total === 1 ? "user matches" : "users match"}${what ? ` ${what}` : ""}.`;
      hideError();
    } catch (problem) {
      fail(problem);
    } finally {
      if (mine === generation) table.removeAttribute("aria-busy");
    }
  }

  function row(user) {
    const self = user.id === context.user.id;
    const tr = h("tr", { dataset: { userId: user.id } });
    const select = h(
      "select",
      { class: "role-select", "aria-label": `Role of ${user.display_name}` },
      ROLES.map((role) => option(role, role, role === user.role)),
    );
    select.addEventListener("change", async () => {
      const wanted = select.value;
      select.disabled = true;
      try {
        const updated = await api(`/api/admin/users/${encodeURIComponent(user.id)}`, { method: "PUT", json: { role: wanted }, signal });
        Object.assign(user, updated);
        toast(`${user.display_name} is now ${updated.role}.`, "success");
        hideError();
      } catch (problem) {
        select.value = user.role; // the server said no: show what is really stored
        fail(problem);
      } finally {
        select.disabled = false;
        select.focus();
      }
    });

    const statusCell = h("td");
    const drawStatus = () => {
      const { label, kind } = statusOf(user);
      mount(statusCell, h("span", { class: ["badge", kind] }, label));
    };
    drawStatus();

    const actions = h("td", { class: "actions-cell" });
    if (self) {
      actions.appendChild(h("span", { class: "muted small" }, "This is you"));
    } else {
      const toggle = h("button", { type: "button", class: "secondary disable-user" });
      const drawToggle = () => {
        toggle.textContent = user.disabled ? "Enable" : "Disable";
        toggle.setAttribute("aria-label", `${user.disabled ? "Enable" : "Disable"} ${user.display_name}`);
      };
      drawToggle();
      toggle.addEventListener("click", async () => {
        toggle.disabled = true;
        try {
          const updated = await api(`/api/admin/users/${encodeURIComponent(user.id)}`, {
            method: "PUT",
            json: { disabled: !user.disabled },
            signal,
          });
          Object.assign(user, updated);
          drawToggle();
          drawStatus();
          toast(`${user.display_name} is ${user.disabled ? "disabled and signed out" : "enabled again"}.`, "success");
          hideError();
        } catch (problem) {
          fail(problem);
        } finally {
          toggle.disabled = false;
          toggle.focus();
        }
      });

      const remove = h("button", { type: "button", class: "danger delete-user", "aria-label": `Delete ${user.display_name}` }, "Delete");
      remove.addEventListener("click", async () => {
        const sure = await confirmDialog(
          "Delete this user?",
          `${user.display_name} (${user.email}) loses the account, every session and all conversations. This cannot be undone.`,
          "Delete user",
          true,
        );
        if (!sure) return remove.focus();
        try {
          await api(`/api/admin/users/${encodeURIComponent(user.id)}`, { method: "DELETE", signal });
          const place = Array.from(tbody.children).indexOf(tr);
          tr.remove();
          toast(`${user.display_name} was deleted.`, "success");
          hideError();
          // Read the page again: the count changes and the next page's first user moves up into this one.
          await load();
          // Keep keyboard focus near where it was: the row now in the deleted one's place, else the search field.
          const rows = tbody.querySelectorAll("tr[data-user-id]");
          const neighbour = rows[Math.min(place, rows.length - 1)];
          const target = neighbour && (neighbour.querySelector(".delete-user") || neighbour.querySelector(".role-select"));
          (target || search).focus();
        } catch (problem) {
          fail(problem);
          remove.focus();
        }
      });
      actions.append(toggle, remove);
    }

    // Your own role is not yours to change (the server refuses it too): shown as text, with the reason.
    const roleCell = self
      ? h(
          "td",
          null,
          h("span", { class: "badge role-readonly", title: "You cannot change your own role; another admin can." }, user.role),
          h("span", { class: "muted small own-role-note" }, " your own role: another admin can change it"),
        )
      : h("td", null, select);
    tr.append(
      h("td", null, h("span", { class: "user-name" }, user.display_name)),
      h("td", { class: "nowrap" }, user.email),
      roleCell,
      statusCell,
      h("td", null, user.groups.length ? user.groups.join(", ") : h("span", { class: "muted" }, "—")),
      h("td", { class: "nowrap" }, h("time", { datetime: user.created_at }, formatDate(user.created_at, false))),
      actions,
    );
    return tr;
  }

  await load();
}

// The "Create user" dialog; `created` reloads the list.
function createDialog(context, created) {
  const email = h("input", { id: "new-user-email", name: "email", type: "email", autocomplete: "off", required: true });
  const name = h("input", { id: "new-user-name", name: "display_name", type: "text", autocomplete: "off", required: true, maxlength: "100" });
  const password = h("input", { id: "new-user-password", name: "password", type: "password", autocomplete: "new-password", required: true, minlength: "10" });
  const role = h("select", { id: "new-user-role", name: "role" }, ROLES.map((value) => option(value, value, value === "user")));
  const groups = h("input", { id: "new-user-groups", name: "groups", type: "text", autocomplete: "off" });
  const verified = h("input", { id: "new-user-verified", name: "verified", type: "checkbox" });
  verified.defaultChecked = true; // so form.reset() ticks it again
  const general = h("p", { class: "error", role: "alert", tabindex: "-1", hidden: true });
  const submit = h("button", { type: "submit", id: "new-user-submit" }, "Create user");
  const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");

  const form = h(
    "form",
    { id: "user-form", novalidate: true },
    h("h2", { id: "user-form-title" }, "Create a user"),
    general,
    field("E-mail", email),
    field("Display name", name),
    field("Password", password, "At least 10 characters and not a common password. The person can change it in their profile."),
    field("Role", role),
    field("Groups", groups, "Optional, separated by commas, e.g. controlling, treasury."),
    h("div", { class: "check" }, verified, h("label", { for: "new-user-verified" }, "The e-mail address is confirmed (otherwise a confirmation link is sent)")),
    h("div", { class: "actions" }, cancel, submit),
  );
  const element = h("dialog", { class: "dialog", id: "user-dialog", "aria-labelledby": "user-form-title" }, form);
  let opener = null;

  cancel.addEventListener("click", () => element.close());
  element.addEventListener("close", () => opener && opener.focus());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form, general);
    submit.disabled = true;
    try {
      const user = await api("/api/admin/users", {
        method: "POST",
        json: {
          email: email.value.trim(),
          display_name: name.value.trim(),
          password: password.value,
          role: role.value,
          groups: groups.value.split(",").map((group) => group.trim()).filter(Boolean),
          verified: verified.checked,
        },
        signal: context.signal,
      });
      element.close();
      toast(`${user.display_name} (${user.email}) was created as ${user.role}.`, "success");
      await created(user);
      const rowSelect = $(`tr[data-user-id="${CSS.escape(user.id)}"] .role-select`);
      if (rowSelect) rowSelect.focus();
    } catch (problem) {
      if (!isAbort(problem)) showFieldError(form, problem, general);
    } finally {
      submit.disabled = false;
    }
  });

  return {
    element,
    open(from) {
      opener = from;
      form.reset();
      clearFieldErrors(form, general);
      element.showModal();
      email.focus();
    },
  };
}
