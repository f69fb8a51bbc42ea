// The knowledge browser: search (hybrid, as the chat retrieves) or a paged list, one entry's page, and for editors
// and admins the entry form and the import of export files. Entry bodies are shown as plain text with their line
// breaks (CSS white-space: pre-wrap); Markdown is never rendered as HTML.

import { api } from "./api.js";
import { confirmDialog, formatDate, h, mount, toast } from "./dom.js";
import {
  clearFieldErrors,
  debounce,
  errorMessage,
  field,
  highlightTerms,
  queryTerms,
  showFieldError,
  snippetAround,
} from "./ui.js";

const PAGE = 20;
const SEARCH_HITS = 20;
const MAX_UPLOAD = 12 * 1024 * 1024; // the server's body limit (docs/ingest.md)
const FORMATS = [
  ["auto", "Detect from the content"],
  ["jsonl", "JSON Lines (one object per line)"],
  ["salesforce-json", "Salesforce tree export (JSON)"],
  ["salesforce-csv", "Salesforce Data Loader or report (CSV)"],
  ["northwind-csv", "Northwind table (CSV)"],
  ["csv", "Other CSV table (one entry per row)"],
  ["erpnext", "ERPNext / Frappe fixtures (JSON)"],
  ["odoo", "Odoo XML data file"],
  ["northwind-sql", "Northwind PostgreSQL dump (SQL)"],
  ["markdown", "Markdown document"],
  ["html", "HTML document"],
  ["text", "Plain text document"],
];


// Set by a citation's "open the entry" link: the passage (offsets in the body) to highlight on the entry page.
let pendingHighlight = null;

export function highlightNext(documentId, start, end) {
  pendingHighlight = { documentId, start, end };
}

const entryHref = (id) => "#/knowledge/" + encodeURIComponent(id);

// Tags as badges, with spaces between them so copied or read text keeps them apart.
function badges(tags) {
  return (tags || []).flatMap((tag, index) => [index > 0 ? " " : null, h("span", { class: "badge" }, tag)]);
}

function splitList(value) {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

// ---- List and search ------------------------------------------------------------------------------------------

function documentItem(doc) {
  return h(
    "li",
    { class: "knowledge-item", dataset: { id: doc.id } },
    h("a", { class: "knowledge-link", href: entryHref(doc.id) }, h("span", { class: "knowledge-title" }, doc.title || "Untitled entry")),
    h(
      "p",
      { class: "knowledge-meta" },
      h("span", { class: "knowledge-source" }, doc.source),
      doc.updated_at ? h("span", null, " · updated ", h("time", { datetime: doc.updated_at }, formatDate(doc.updated_at, false))) : null,
    ),
    doc.tags && doc.tags.length > 0 ? h("p", { class: "tags" }, badges(doc.tags)) : null,
  );
}

function hitItem(hit, terms) {
  return h(
    "li",
    { class: "knowledge-item", dataset: { id: hit.document_id } },
    h("a", { class: "knowledge-link", href: entryHref(hit.document_id) }, h("span", { class: "knowledge-title" }, hit.title || "Untitled entry")),
    h("p", { class: "knowledge-meta" }, h("span", { class: "knowledge-source" }, hit.source || "")),
    h("p", { class: "knowledge-snippet" }, highlightTerms(snippetAround(hit.passage, terms), terms)),
  );
}

export function knowledgePage(main, route, app) {
  document.title = "Knowledge · Omnifin";
  let request = 0;
  let controller = null;
  let cursor = null;
  let stopImport = null;

  const search = h("input", {
    id: "knowledge-search",
    name: "q",
    type: "search",
    autocomplete: "off",
    placeholder: "e.g. travel per diem, payment run, VAT",
    value: route.query.get("q") || "",
  });
  const results = h("ul", { id: "knowledge-results", class: "knowledge-results", "aria-labelledby": "knowledge-count" });
  const count = h("p", { id: "knowledge-count", class: "muted", role: "status" });
  const more = h("button", { id: "knowledge-more", type: "button", class: "secondary", hidden: true }, "Load more");
  more.addEventListener("click", () => loadList(true));

  async function run(query) {
    const mine = ++request;
    if (controller) controller.abort();
    controller = new AbortController();
    const signal = controller.signal;
    // Keep the query in the address (back from an entry shows the same results) without a new history entry.
    history.replaceState(null, "", query ? "#/knowledge?q=" + encodeURIComponent(query) : "#/knowledge");
    if (!query) return loadList(false, mine, signal);
    count.textContent = "Searching…";
    more.hidden = true;
    try {
      const answer = await api("/api/knowledge?" + new URLSearchParams({ q: query, k: String(SEARCH_HITS) }), { signal });
      if (mine !== request) return;
      // Hits are passages; show each entry once, at its best passage.
      const seen = new Set();
      const hits = answer.hits.filter((hit) => !seen.has(hit.document_id) && seen.add(hit.document_id));
      const terms = queryTerms(query);
      mount(results, hits.map((hit) => hitItem(hit, terms)));
      count.textContent = hits.length === 0
        ? `Nothing in the knowledge bank matches “${query}”.`
        : `${hits.length} ${hits.length === 1 ? "result" : "results"} for “${query}”, best match first.`;
      if (hits.length === 0) {
        mount(
          results,
          h(
            "li",
            { id: "knowledge-empty", class: "empty-state" },
            h("p", null, "Try:"),
            h(
              "ul",
              null,
              h("li", null, "other words for the same thing (“sign off” or “approve”, “per diem” or “meal allowance”);"),
              h("li", null, "fewer words, or a question as you would ask a colleague;"),
              h("li", null, "the spelling of names and terms;"),
              h("li", null, h("a", { href: "#/chat" }, "asking the chat"), ", or clearing the search to browse every entry."),
            ),
          ),
        );
      }
    } catch (error) {
      if (error.name === "AbortError" || mine !== request) return;
      mount(results);
      count.textContent = "The search failed: " + errorMessage(error);
    }
  }

  async function loadList(append, mine = ++request, signal = undefined) {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (append && cursor) params.set("after", cursor);
    if (!append) count.textContent = "Loading…";
    more.disabled = true;
    try {
      const page = await api("/api/knowledge?" + params, { signal });
      if (mine !== request) return;
      if (!append) mount(results);
      for (const doc of page.documents) {
        results.append(documentItem(doc));
      }
      cursor = page.next || null;
      more.hidden = !cursor;
      const shown = results.children.length;
      count.textContent = shown === 0 ? "The knowledge bank is empty." : `Showing ${shown} ${shown === 1 ? "entry" : "entries"}${cursor ? "; more below" : ""}.`;
    } catch (error) {
      if (error.name === "AbortError" || mine !== request) return;
      count.textContent = "The entries could not be loaded: " + errorMessage(error);
    } finally {
      more.disabled = false;
    }
  }

  const typed = debounce(() => run(search.value.trim()), 300);
  search.addEventListener("input", typed);
  const form = h(
    "form",
    { role: "search", class: "search-form", on: { submit: (event) => {
      event.preventDefault();
      typed.cancel();
      run(search.value.trim());
    } } },
    h("label", { for: "knowledge-search" }, "Search the knowledge bank"),
    h("div", { class: "search-row" }, search, h("button", { type: "submit", id: "knowledge-search-submit" }, "Search")),
  );

  let side = null;
  if (app.isEditor()) {
    const panel = importPanel(() => {
      if (!search.value.trim()) loadList(false);
    });
    stopImport = panel.stop;
    side = h(
      "aside",
      { class: "knowledge-side", "aria-label": "Add knowledge" },
      h(
        "section",
        { class: "card" },
        h("h2", null, "Add an entry"),
        h("p", { class: "muted" }, "Write a policy, an FAQ or a note; it is searchable and citable at once."),
        h("a", { id: "knowledge-new", class: "button", href: "#/knowledge/new" }, "New entry"),
      ),
      panel.element,
    );
  }

  mount(
    main,
    h("h1", null, "Knowledge bank"),
    h(
      "div",
      { class: ["knowledge-layout", side && "with-side"] },
      h("section", { class: "knowledge-main", "aria-label": "Entries" }, form, count, results, more),
      side,
    ),
  );
  run(search.value.trim());

  return {
    update(next) {
      // Only the query changed (back/forward between searches): search again without rebuilding.
      const query = next.query.get("q") || "";
      if (query !== search.value.trim()) {
        search.value = query;
        run(query);
      }
      return true;
    },
    destroy() {
      request += 1;
      typed.cancel();
      if (controller) controller.abort();
      if (stopImport) stopImport();
    },
  };
}

// ---- Import ---------------------------------------------------------------------------------------------------

// An import is checked before it is run: the file is first sent as a dry run, whose summary (what would be added,
// changed, left alone and deleted, with the entries a prune deletes listed) the user confirms. The confirmed import
// allows exactly the deletions shown (max_delete), so an export that changed in between stops instead of deleting more.
function importPanel(onFinished) {
  let timer = null;
  let stopped = false;
  let checked = null; // the previewed import: { file, params, summary }
  const file = h("input", {
    id: "import-file",
    name: "file",
    type: "file",
    accept: ".json,.jsonl,.ndjson,.csv,.xml,.sql,.md,.markdown,.html,.htm,.txt",
  });
  const format = h("select", { id: "import-format", name: "format" }, FORMATS.map(([value, label]) => h("option", { value }, label)));
  const source = h("input", { id: "import-source", name: "source", maxlength: 100, autocomplete: "off", placeholder: "e.g. salesforce" });
  const prune = h("input", { id: "import-prune", name: "prune", type: "checkbox" });
  const submit = h("button", { id: "import-submit", type: "submit" }, "Check the import");
  const error = h("div", { class: "error", role: "alert", id: "import-error", hidden: true });
  const progress = h("progress", { id: "import-progress", max: 1, value: 0, "aria-label": "Import progress" });
  const status = h("p", { id: "import-status", role: "status" });
  const problems = h("ul", { id: "import-errors", class: "import-errors" });
  const deletions = h("ul", { id: "import-deletions", class: "import-deletions" });
  const confirm = h("button", { id: "import-confirm", type: "button", on: { click: onConfirm } }, "Import");
  const cancel = h("button", { id: "import-cancel", type: "button", class: "secondary", on: { click: reset } }, "Cancel");
  const preview = h(
    "div",
    { id: "import-preview", class: "import-preview", hidden: true },
    deletions,
    h("div", { class: "actions" }, cancel, confirm),
  );
  const result = h("div", { id: "import-result", class: "import-result", hidden: true }, progress, status, problems, preview);

  const form = h(
    "form",
    { id: "import-form", novalidate: true, on: { submit: onSubmit } },
    field("Export file", file, "Salesforce, ERPNext, Odoo, Northwind, CSV, JSON Lines, Markdown, HTML or text; up to 12 MB."),
    field("Format", format),
    field("Source name", source, "Entries are grouped under this name; importing the same records again, under any file name, updates them."),
    h(
      "div",
      { class: "check" },
      prune,
      h("label", { for: "import-prune" }, "Delete entries of this source that the export no longer has (only of the record types in the file)"),
    ),
    error,
    h("div", { class: "actions" }, submit),
  );

  function count(n, one, many) {
    return `${n} ${n === 1 ? one : many}`;
  }

  function summaryText(summary) {
    const parts = [`add ${count(summary.created, "entry", "entries")}`, `update ${summary.updated}`, `leave ${summary.unchanged} unchanged`];
    if (summary.prune_scope && summary.prune_scope.length) parts.push(`delete ${summary.deleted}`);
    return parts.join(", ");
  }

  function show(job, checking) {
    const total = job.total || 0;
    const finished = job.status === "completed" || job.status === "failed";
    if (total > 0) {
      progress.max = total;
      progress.value = Math.min(job.processed, total);
    } else if (finished) {
      progress.max = 1;
      progress.value = 1;
    } else {
      progress.removeAttribute("value"); // not known yet: an indeterminate bar
    }
    if (job.status === "completed" && total > 0) progress.value = total;
    status.dataset.status = checking && job.status === "completed" ? "checked" : job.status;
    const skipped = job.skipped ? `, ${job.skipped} skipped` : "";
    const summary = job.summary;
    const deleted = summary && !summary.dry_run && summary.deleted ? `, ${count(summary.deleted, "entry", "entries")} deleted` : "";
    const text = checking
      ? {
          queued: "Checking the file…",
          running: "Checking the file…",
          completed: summary ? `Checked ${count(summary.read, "record", "records")}: this import would ${summaryText(summary)}${skipped}.` : "Checked.",
          failed: "The file could not be checked.",
        }[job.status]
      : {
          queued: "Queued…",
          running: `Importing: ${job.processed}${total ? " of " + total : ""} records${skipped}.`,
          completed: `Done: ${job.processed} ${job.processed === 1 ? "record" : "records"} imported${skipped}${deleted}.`,
          failed: `The import failed after ${job.processed} records${skipped}.`,
        }[job.status];
    const line = text || job.status;
    if (status.textContent !== line) status.textContent = line;
    mount(
      problems,
      (job.errors || []).map((problem) => {
        const name = String(problem.file || "");
        const where = problem.line ? `Line ${problem.line}` : name || "File";
        return h("li", null, h("strong", null, where + ": "), problem.message, problem.line && name ? h("span", { class: "muted" }, ` (${name})`) : null);
      }),
    );
    return finished;
  }

  function showPreview(summary) {
    const gone = summary.deletions || [];
    const over = summary.delete_limit !== undefined && summary.delete_limit !== null && summary.deleted > summary.delete_limit;
    mount(
      deletions,
      gone.length
        ? [
            h(
              "li",
              { class: over ? "import-warning" : "muted" },
              over
                ? `These ${summary.deleted} entries would be deleted, more than the usual limit of ${summary.delete_limit}. Check the list before you import.`
                : `${count(summary.deleted, "entry", "entries")} would be deleted:`,
            ),
            ...gone.slice(0, 50).map((item) => h("li", null, item.title || item.external_id || item.id)),
            summary.deleted > 50 ? h("li", { class: "muted" }, `… and ${summary.deleted - 50} more`) : null,
          ]
        : [],
    );
    confirm.textContent = summary.deleted ? `Import and delete ${count(summary.deleted, "entry", "entries")}` : "Import";
    preview.hidden = false;
    confirm.focus();
  }

  function reset() {
    checked = null;
    clearTimeout(timer);
    preview.hidden = true;
    result.hidden = true;
    submit.disabled = false;
    mount(deletions);
  }

  async function poll(job, checking) {
    if (stopped) return;
    try {
      const state = await api("/api/knowledge/import/" + encodeURIComponent(job));
      if (stopped) return;
      if (show(state, checking)) {
        if (checking && state.status === "completed" && state.summary && checked) {
          checked.summary = state.summary;
          showPreview(state.summary);
          return;
        }
        submit.disabled = false;
        checked = null;
        toast(state.status === "completed" ? "Import done." : "The import failed.", state.status === "completed" ? "success" : "error");
        if (!checking) onFinished();
        return;
      }
    } catch (failure) {
      if (stopped) return;
      // A refusal (403, 404 …) stays one however often it is asked; a dropped connection, 429 or 5xx may pass.
      if (failure.status >= 400 && failure.status < 500 && failure.status !== 429) {
        submit.disabled = false;
        status.dataset.status = "unknown";
        status.textContent = "The progress of the import could not be read.";
        showFieldError(form, { message: errorMessage(failure) }, error);
        return;
      }
      status.textContent = "The progress could not be read: " + errorMessage(failure) + " Retrying…";
    }
    timer = setTimeout(() => poll(job, checking), 1000);
  }

  async function start(chosen, params, checking) {
    clearTimeout(timer);
    result.hidden = false;
    preview.hidden = true;
    progress.max = 1;
    progress.removeAttribute("value");
    status.textContent = "Uploading…";
    mount(problems);
    const query = new URLSearchParams(params);
    if (checking) query.set("dry_run", "true");
    try {
      const accepted = await api("/api/knowledge/import?" + query, {
        method: "POST",
        body: chosen,
        headers: { "Content-Type": "application/octet-stream" },
      });
      status.textContent = checking ? "Checking the file…" : "Queued…";
      poll(accepted.job, checking);
    } catch (failure) {
      submit.disabled = false;
      result.hidden = true;
      checked = null;
      showFieldError(form, failure, error);
    }
  }

  function onSubmit(event) {
    event.preventDefault();
    clearFieldErrors(form, error);
    const chosen = file.files && file.files[0];
    if (!chosen) {
      showFieldError(form, { field: "file", message: "choose the export file to import" }, error);
      return;
    }
    if (chosen.size > MAX_UPLOAD) {
      showFieldError(form, { field: "file", message: "the file is larger than 12 MB; split the export or use `omnifin ingest` on the server" }, error);
      return;
    }
    const params = { filename: chosen.name };
    if (source.value.trim()) params.source = source.value.trim();
    if (format.value !== "auto") params.format = format.value;
    if (prune.checked) params.prune = "true";
    submit.disabled = true;
    checked = { file: chosen, params, summary: null };
    start(chosen, params, true);
  }

  function onConfirm() {
    if (!checked || !checked.summary) return;
    const params = { ...checked.params };
    // Exactly the deletions the user saw, no more.
    if (params.prune) params.max_delete = String(checked.summary.deleted);
    const chosen = checked.file;
    checked = null;
    start(chosen, params, false);
  }

  return {
    element: h("section", { class: "card import-panel", "aria-labelledby": "import-heading" }, h("h2", { id: "import-heading" }, "Import an export"), form, result),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

// ---- One entry ------------------------------------------------------------------------------------------------

function bodyNodes(doc) {
  const body = doc.body || "";
  const mark = pendingHighlight && pendingHighlight.documentId === doc.id ? pendingHighlight : null;
  pendingHighlight = null;
  if (mark && mark.start >= 0 && mark.end > mark.start && mark.end <= body.length) {
    return [body.slice(0, mark.start), h("mark", { id: "entry-highlight" }, body.slice(mark.start, mark.end)), body.slice(mark.end)];
  }
  return [body];
}

function metaRow(label, value, id) {
  if (value === null || value === undefined || value === "" || (Array.isArray(value) && value.length === 0)) return null;
  return [h("dt", null, label), h("dd", { id }, value)];
}

export function entryPage(main, route, app) {
  const id = route.params[0];
  let alive = true;
  document.title = "Knowledge · Omnifin";
  mount(main, h("p", { class: "muted loading" }, "Loading the entry…"));

  async function remove(doc) {
    const confirmed = await confirmDialog(
      "Delete this entry?",
      `“${doc.title || "Untitled entry"}” will be removed from the knowledge bank and no longer cited in answers. This cannot be undone.`,
      "Delete",
      true,
    );
    if (!confirmed) return;
    try {
      await api("/api/knowledge/" + encodeURIComponent(doc.id), { method: "DELETE" });
      toast("Entry deleted.", "success");
      location.hash = "#/knowledge";
    } catch (error) {
      toast(errorMessage(error), "error");
    }
  }

  function render(doc) {
    document.title = (doc.title || "Untitled entry") + " · Omnifin";
    let actions = null;
    if (app.isEditor()) {
      const del = h("button", { id: "entry-delete", type: "button", class: "danger" }, "Delete");
      del.addEventListener("click", () => remove(doc));
      actions = h("div", { class: "entry-actions" }, h("a", { id: "entry-edit", class: "button secondary", href: entryHref(doc.id) + "/edit" }, "Edit"), del);
    }
    const metadata = Object.entries(doc.metadata || {}).sort(([a], [b]) => a.localeCompare(b));
    const body = h("div", { id: "entry-body", class: "entry-body" }, bodyNodes(doc));
    mount(
      main,
      h("p", { class: "breadcrumb" }, h("a", { href: "#/knowledge" }, "← Knowledge bank")),
      h(
        "article",
        { class: "card entry", "aria-labelledby": "entry-title" },
        h("div", { class: "entry-head" }, h("h1", { id: "entry-title" }, doc.title || "Untitled entry"), actions),
        h(
          "dl",
          { class: "entry-meta" },
          metaRow("Source", doc.source, "entry-source"),
          metaRow("Updated", h("time", { datetime: doc.updated_at }, formatDate(doc.updated_at)), "entry-updated"),
          metaRow("Tags", (doc.tags || []).length ? badges(doc.tags) : null, "entry-tags"),
          metaRow("Visible to", (doc.access || []).join(", "), "entry-access"),
          metaRow("Kind", doc.kind === "record" ? "Record" : null, "entry-kind"),
          metaRow("External id", doc.external_id, "entry-external-id"),
        ),
        metadata.length > 0
          ? h(
            "details",
            { class: "entry-details", id: "entry-metadata", open: true },
            h("summary", null, "Details from the source"),
            h("dl", { class: "entry-meta" }, metadata.map(([key, value]) => metaRow(key, value))),
          )
          : null,
        body,
      ),
    );
    const highlight = body.querySelector("#entry-highlight");
    if (highlight) highlight.scrollIntoView({ block: "center" });
  }

  api("/api/knowledge/" + encodeURIComponent(id))
    .then((doc) => {
      if (!alive) return;
      render(doc);
    })
    .catch((error) => {
      if (!alive) return;
      mount(
        main,
        h(
          "section",
          { class: "card narrow" },
          h("h1", null, error.status === 404 ? "Entry not found" : "The entry could not be loaded"),
          h("p", { role: "alert" }, error.status === 404 ? "This entry does not exist, or you may not see it." : errorMessage(error)),
          h("a", { class: "button", href: "#/knowledge" }, "Back to the knowledge bank"),
        ),
      );
    });

  return {
    destroy() {
      alive = false;
    },
  };
}

// ---- New / edit -----------------------------------------------------------------------------------------------

export function entryFormPage(main, route, app) {
  const editing = route.name === "knowledge-edit";
  const id = route.params[0];
  let alive = true;
  let original = null;
  document.title = (editing ? "Edit entry" : "New entry") + " · Omnifin";

  if (!app.isEditor()) {
    mount(
      main,
      h("section", { class: "card narrow" }, h("h1", null, "Editors only"), h("p", null, "Only editors and admins can change the knowledge bank."),
        h("a", { class: "button", href: "#/knowledge" }, "Back to the knowledge bank")),
    );
    return null;
  }

  const title = h("input", { id: "entry-title-input", name: "title", required: true, maxlength: 1000, autocomplete: "off" });
  const body = h("textarea", { id: "entry-body-input", name: "body", rows: 14, required: true });
  const tags = h("input", { id: "entry-tags-input", name: "tags", autocomplete: "off", placeholder: "e.g. payroll, deadlines" });
  const access = h("input", { id: "entry-access-input", name: "access", autocomplete: "off", placeholder: "e.g. role:editor, group:finance" });
  const save = h("button", { id: "entry-save", type: "submit" }, editing ? "Save changes" : "Create entry");
  const error = h("div", { id: "entry-error", class: "error", role: "alert", hidden: true });
  const cancel = h("a", { class: "button secondary", href: editing ? entryHref(id) : "#/knowledge" }, "Cancel");

  const form = h(
    "form",
    { id: "entry-form", novalidate: true, on: { submit: onSubmit } },
    field("Title", title),
    field("Text", body, "Plain text; blank lines separate paragraphs. Markdown marks are kept as typed."),
    field("Tags", tags, "Separated by commas."),
    field("Visible to", access, "Optional, separated by commas: role:NAME, group:NAME or user:ID. Empty means everyone."),
    error,
    h("div", { class: "actions" }, cancel, save),
  );

  async function onSubmit(event) {
    event.preventDefault();
    clearFieldErrors(form, error);
    const payload = { title: title.value.trim(), body: body.value, tags: splitList(tags.value), access: splitList(access.value) };
    if (original) {
      // PUT replaces the entry: send back what this form does not edit.
      payload.kind = original.kind;
      payload.source = original.source;
      payload.metadata = original.metadata || {};
      if (original.external_id) payload.external_id = original.external_id;
    }
    save.disabled = true;
    try {
      const result = await api(editing ? "/api/knowledge/" + encodeURIComponent(id) : "/api/knowledge", {
        method: editing ? "PUT" : "POST",
        json: payload,
      });
      toast(editing ? "Entry saved." : "Entry created.", "success");
      location.hash = entryHref(result.document.id);
    } catch (failure) {
      showFieldError(form, failure, error);
    } finally {
      save.disabled = false;
    }
  }

  mount(
    main,
    h("p", { class: "breadcrumb" }, h("a", { href: editing ? entryHref(id) : "#/knowledge" }, editing ? "← Back to the entry" : "← Knowledge bank")),
    h("section", { class: "card entry-form" }, h("h1", null, editing ? "Edit entry" : "New entry"), form),
  );

  if (editing) {
    save.disabled = true;
    api("/api/knowledge/" + encodeURIComponent(id))
      .then((doc) => {
        if (!alive) return;
        original = doc;
        title.value = doc.title || "";
        body.value = doc.body || "";
        tags.value = (doc.tags || []).join(", ");
        access.value = (doc.access || []).join(", ");
        save.disabled = false;
      })
      .catch((failure) => {
        if (!alive) return;
        error.textContent = failure.status === 404 ? "This entry does not exist, or you may not see it." : errorMessage(failure);
        error.hidden = false;
      });
  }

  return {
    destroy() {
      alive = false;
    },
  };
}
