// #/audit: the audit log, newest first, filtered by action (exact, or a prefix ending in ".") and actor, paged
// with the server's `next` cursor. Ids are shown as the people they name; before/after details are shown as text.

import { api } from "./api.js";
import { formatDate, h, mount } from "./dom.js";
import { isAbort, labelCells, lookUpUsers, pageHeader, personLabel, rememberUsers } from "./admin-common.js";

const PAGE_SIZE = 50;
const KNOWN_ACTIONS = [
  "user.",
  "user.create",
  "user.update",
  "user.delete",
  "user.register",
  "user.password_change",
  "prompt.",
  "prompt.create",
  "prompt.activate",
  "knowledge.",
  "knowledge.created",
  "knowledge.updated",
  "knowledge.metadata_updated",
  "knowledge.deleted",
  "knowledge.import",
  "knowledge.import_preview",
  "auth.",
  "auth.login_failed",
  "auth.api_key_created",
  "auth.api_key_revoked",
  "security.",
  "security.denied",
  "security.rate_limited",
];

// A one-line summary of a before/after change: "role: user → editor; disabled: false → true".
function summarise(detail) {
  if (!detail || typeof detail !== "object" || Object.keys(detail).length === 0) return null;
  const { before, after } = detail;
  if (before && after && typeof before === "object" && typeof after === "object") {
    const changed = Object.keys({ ...before, ...after })
      .filter((key) => key !== "updated_at" && JSON.stringify(before[key]) !== JSON.stringify(after[key]))
      .map((key) => `${key}: ${short(before[key])} → ${short(after[key])}`);
    return changed.length ? changed.join("; ") : "no visible change";
  }
  if (after) return "created";
  if (before) return "removed";
  return "details";
}

function short(value) {
  if (value === undefined || value === null) return "—";
  if (Array.isArray(value)) return value.length ? value.join(", ") : "none";
  return String(value);
}

// Titles of knowledge entries by id: from the entries' own details, else looked up (an entry since deleted, with no
// title in its audit entry, stays its id).
const documentTitles = new Map();

function documentTitle(entry) {
  const id = entry.target.slice("document:".length);
  const title = (entry.detail && typeof entry.detail.title === "string" && entry.detail.title) || documentTitles.get(id);
  return { id, title };
}

// Looks up the titles of the documents these entries name that their details do not (at most 20 at a time).
async function lookUpDocuments(entries, signal) {
  const missing = [
    ...new Set(entries.filter((entry) => (entry.target || "").startsWith("document:") && !documentTitle(entry).title).map((entry) => documentTitle(entry).id)),
  ].filter((id) => !documentTitles.has(id));
  await Promise.all(
    missing.slice(0, 20).map(async (id) => {
      try {
        const doc = await api(`/api/knowledge/${encodeURIComponent(id)}`, { signal });
        documentTitles.set(id, doc.title);
      } catch (problem) {
        if (isAbort(problem)) throw problem;
        documentTitles.set(id, null); // gone, or not visible: the id stays
      }
    }),
  );
}

// user:ID targets name the person; the entry's own before/after (kept even after a delete) is the fallback.
// document:ID targets show the entry's title, linked to it, with the id on hover.
function targetCell(entry) {
  const target = entry.target || "";
  if (target.startsWith("user:")) {
    const id = target.slice(5);
    const snapshot = entry.detail && (entry.detail.after || entry.detail.before);
    return h("td", { class: "target" }, personLabel(id, snapshot && snapshot.email ? snapshot.email : target));
  }
  if (target.startsWith("document:")) {
    const { id, title } = documentTitle(entry);
    if (title) {
      const label = entry.action === "knowledge.deleted" ? h("span", { class: "document-title", title: target }, title) : h("a", { class: "document-title", href: `/#/knowledge/${encodeURIComponent(id)}`, title: target }, title);
      return h("td", { class: "target wrap-anywhere" }, label);
    }
  }
  return h("td", { class: "target wrap-anywhere" }, target || h("span", { class: "muted" }, "—"));
}

export async function render(container, context) {
  const { signal } = context;
  const action = h("input", { id: "audit-action-filter", name: "action", type: "text", list: "audit-actions", autocomplete: "off", placeholder: "user." });
  const actor = h("input", { id: "audit-actor-filter", name: "actor", type: "text", autocomplete: "off", placeholder: "e-mail or user id" });
  const apply = h("button", { type: "submit", id: "audit-apply" }, "Apply");
  const error = h("p", { id: "audit-error", class: "error", role: "alert", hidden: true });
  const status = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  const filters = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter the audit log" },
    h("div", { class: "field grow" }, h("label", { for: "audit-action-filter" }, "Action"), action, h("p", { class: "hint" }, "Exact (user.update) or a prefix ending in a dot (user.).")),
    h("div", { class: "field grow" }, h("label", { for: "audit-actor-filter" }, "Actor"), actor, h("p", { class: "hint" }, "Who did it: an e-mail address or a user id.")),
    h("div", { class: "field field-button" }, apply),
    h("datalist", { id: "audit-actions" }, KNOWN_ACTIONS.map((value) => h("option", { value }))),
  );
  const tbody = h("tbody");
  const table = h(
    "table",
    { id: "audit-table" },
    h("caption", { class: "visually-hidden" }, "Audit log entries, newest first"),
    h("thead", null, h("tr", null, ["When", "Actor", "Action", "Target", "Details", "Address"].map((title) => h("th", { scope: "col" }, title)))),
    tbody,
  );
  const more = h("button", { type: "button", id: "audit-more", class: "secondary", hidden: true }, "Load older entries");

  mount(
    container,
    pageHeader("Audit log", "Every change to users, prompts and the knowledge bank, sign-up and sign-in problems, and refused requests."),
    filters,
    error,
    status,
    h("div", { class: "table-wrap card flush" }, table),
    h("div", { class: "row pager" }, more),
  );

  let cursor = null;
  let query = {};
  let generation = 0;

  // An e-mail in the actor field is turned into the user id the API filters by.
  async function actorId(text) {
    if (!text.includes("@")) return text;
    const found = await api(`/api/admin/users?${new URLSearchParams({ q: text, limit: "50" })}`, { signal });
    rememberUsers(found.users);
    const user = found.users.find((item) => item.email.toLowerCase() === text.toLowerCase());
    if (!user) throw new Error(`no user has the e-mail address ${text}`);
    return user.id;
  }

  async function load(append) {
    const mine = ++generation;
    error.hidden = true;
    table.setAttribute("aria-busy", "true");
    more.disabled = true;
    try {
      if (!append) {
        query = {};
        if (action.value.trim()) query.action = action.value.trim();
        if (actor.value.trim()) query.actor = await actorId(actor.value.trim());
      }
      const params = new URLSearchParams({ ...query, limit: String(PAGE_SIZE) });
      if (append && cursor) params.set("before", String(cursor));
      const page = await api(`/api/admin/audit?${params}`, { signal });
      if (mine !== generation) return;
      // Learn names from the entries themselves first (they survive deletes), then ask for the rest.
      for (const entry of page.entries) {
        const snapshot = entry.detail && (entry.detail.after || entry.detail.before);
        if (entry.target && entry.target.startsWith("user:") && snapshot && snapshot.id && snapshot.email) rememberUsers([snapshot]);
      }
      await lookUpUsers(
        page.entries.flatMap((entry) => [entry.actor_id, entry.target && entry.target.startsWith("user:") ? entry.target.slice(5) : null]),
        signal,
      ).catch((problem) => {
        if (isAbort(problem)) throw problem;
      });
      await lookUpDocuments(page.entries, signal);
      if (mine !== generation) return;
      const rows = page.entries.map(row);
      const firstNew = rows[0];
      if (append) tbody.append(...rows);
      else mount(tbody, rows.length ? rows : h("tr", null, h("td", { colspan: "6", class: "muted" }, "No entries match.")));
      labelCells(table);
      cursor = page.next ?? null;
      more.hidden = cursor === null;
      status.textContent = append ? `${rows.length} older entries loaded.` : `${rows.length} entries shown.`;
      // After "Load older entries", continue reading where the new rows start.
      if (append && firstNew) firstNew.querySelector("th").focus();
    } catch (problem) {
      if (isAbort(problem)) return;
      mount(error, problem.message || String(problem));
      error.hidden = false;
    } finally {
      if (mine === generation) {
        table.removeAttribute("aria-busy");
        more.disabled = false;
      }
    }
  }

  function row(entry) {
    const summary = summarise(entry.detail);
    return h(
      "tr",
      { dataset: { auditId: String(entry.id), action: entry.action } },
      h("th", { scope: "row", class: "nowrap", tabindex: "-1" }, h("time", { datetime: entry.occurred_at }, formatDate(entry.occurred_at))),
      h("td", null, personLabel(entry.actor_id)),
      h("td", null, h("code", { class: "action" }, entry.action)),
      targetCell(entry),
      h(
        "td",
        { class: "details-cell" },
        summary
          ? h("details", null, h("summary", null, summary), h("pre", { class: "json" }, JSON.stringify(entry.detail, null, 2)))
          : h("span", { class: "muted" }, "—"),
      ),
      h("td", { class: "mono" }, entry.ip || h("span", { class: "muted" }, "—")),
    );
  }

  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    load(false);
  });
  more.addEventListener("click", () => load(true));
  await load(false);
}
