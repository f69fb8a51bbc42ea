// Small helpers the admin pages share: field-level errors, who-is-this-user look-ups for ids in the audit log and
// prompt history, and a debounce. Everything here builds DOM nodes; nothing parses strings as HTML.

import { api, ApiError } from "./api.js";
import { h, mount } from "./dom.js";

// A request the router cancelled because the admin left the page: not an error worth showing.
export function isAbort(error) {
  return error && error.name === "AbortError";
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// A labelled form field with its own error slot; the input gets `name` = the API's field name so a 400 naming
// that field can be shown right next to it.
export function field(label, input, hint) {
  const errorId = `${input.id}-error`;
  const hintId = hint ? `${input.id}-hint` : null;
  input.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  return h(
    "div",
    { class: "field" },
    h("label", { for: input.id }, label),
    input,
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    h("p", { class: "field-error", id: errorId, hidden: true }),
  );
}

// Shows an API error at the field it names (focusing it), or in the form's general slot otherwise.
export function showFieldError(form, error, generalSlot) {
  clearFieldErrors(form, generalSlot);
  const message = error && error.message ? error.message : String(error);
  const name = error instanceof ApiError ? error.field : null;
  const input = name ? form.querySelector(`[name="${CSS.escape(name)}"]`) : null;
  const slot = input ? form.querySelector(`#${CSS.escape(input.id)}-error`) : null;
  if (input && slot) {
    input.setAttribute("aria-invalid", "true");
    mount(slot, message);
    slot.hidden = false;
    input.focus();
  } else {
    mount(generalSlot, message);
    generalSlot.hidden = false;
    generalSlot.focus();
  }
}

export function clearFieldErrors(form, generalSlot) {
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  for (const slot of form.querySelectorAll(".field-error")) {
    slot.hidden = true;
    slot.replaceChildren();
  }
  if (generalSlot) {
    generalSlot.hidden = true;
    generalSlot.replaceChildren();
  }
}

// The page's main heading; the router focuses it after a route change so screen readers hear where they are.
export function pageHeader(title, intro, ...actions) {
  return h(
    "div",
    { class: "page-head" },
    h("div", null, h("h1", { tabindex: "-1", class: "page-title" }, title), intro ? h("p", { class: "muted" }, intro) : null),
    actions.length ? h("div", { class: "row" }, actions) : null,
  );
}

// --- Who is user X? The audit log and prompt history only carry ids. -------------------------------------------

const people = new Map(); // id → {display_name, email} or null (deleted / unknown)
const pending = new Map(); // id → Promise

export function rememberUsers(users) {
  for (const user of users) people.set(user.id, { display_name: user.display_name, email: user.email });
}

// Resolves ids to users with one request per unknown id (cached for the session). Missing users map to null.
export async function lookUpUsers(ids, signal) {
  const wanted = [...new Set(ids.filter(Boolean))].filter((id) => !people.has(id));
  await Promise.all(
    wanted.map((id) => {
      if (!pending.has(id)) {
        const request = api(`/api/admin/users/${encodeURIComponent(id)}`, { signal })
          .then((user) => people.set(id, { display_name: user.display_name, email: user.email }))
          .catch((error) => {
            if (isAbort(error)) throw error;
            if (error instanceof ApiError && error.status === 404) people.set(id, null);
          })
          .finally(() => pending.delete(id));
        pending.set(id, request);
      }
      return pending.get(id);
    }),
  );
}

// "Name <e-mail>" as a node, or the raw id when the user is gone.
export function personLabel(id, fallback) {
  if (!id) return h("span", { class: "muted" }, fallback || "system");
  const person = people.get(id);
  if (!person) return h("span", { class: "mono", title: id }, fallback || id);
  return h("span", { class: "person" }, h("span", null, person.display_name), " ", h("span", { class: "muted small" }, person.email));
}

export function personText(id) {
  const person = id ? people.get(id) : null;
  return person ? `${person.display_name} (${person.email})` : id || "";
}

// Dates as the API wants them: YYYY-MM-DD in UTC (the server buckets by UTC day).
export function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

export function addDays(date, days) {
  return new Date(date.getTime() + days * 86_400_000);
}

// Names every cell of a table's body after its column (data-label), so that below 600 px, where admin.css shows
// each row as a card, a value says what it is ("Role admin", "Status active").
export function labelCells(table) {
  const titles = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent);
  for (const tr of table.tBodies[0] ? table.tBodies[0].rows : []) {
    Array.from(tr.cells).forEach((td, index) => {
      if (td.colSpan === 1 && titles[index]) td.dataset.label = titles[index];
    });
  }
}

