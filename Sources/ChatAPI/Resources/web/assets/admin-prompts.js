// #/prompts: the versioned prompt templates. Saving always makes a new version (and activates it); any older
// version can be viewed and made active again. The server checks the placeholders and its message is shown as is.

import { api } from "./api.js";
import { confirmDialog, formatDate, h, mount, toast } from "./dom.js";
import { isAbort, lookUpUsers, pageHeader, personLabel } from "./admin-common.js";

export async function render(container, context) {
  const { signal } = context;
  const state = { prompts: [], kinds: [], selected: null };

  const list = h("ul", { id: "prompts-list", class: "prompt-list", "aria-label": "Prompts" });
  const editor = h("section", { id: "prompt-editor", class: "card", "aria-labelledby": "prompt-editor-title", hidden: true });
  const loadError = h("p", { class: "error", role: "alert", hidden: true });
  const viewer = versionDialog();
  const generator = h("section", { id: "answer-engine", class: "card", "aria-labelledby": "answer-engine-title" });

  mount(
    container,
    pageHeader("Prompts", "The instructions Omnifin gives the language model. Every save is a new version; you can go back to any version."),
    generator,
    loadError,
    h("div", { class: "prompts-layout" }, h("nav", { "aria-label": "Prompt kinds", class: "prompt-nav" }, list), editor),
    viewer.element,
  );

  // Which generator answers: the templates shape a language model's answers only, never the built-in answerer's.
  async function drawGenerator() {
    let status;
    try {
      status = await api("/api/chat/status", { signal });
    } catch (error) {
      if (isAbort(error)) return;
      mount(generator, h("p", { class: "muted" }, "The answer engine's status could not be read."));
      return;
    }
    const name = status.generator.name;
    const builtin = name === "builtin";
    const rows = [["Answers by", builtin ? "the built-in answerer (quotes the knowledge bank's sentences)" : name.replace(/^llm:/, "")]];
    rows.push(["Available", status.generator.available ? "yes" : `no${status.generator.detail ? `: ${status.generator.detail}` : ""}`]);
    const engine = status.engine;
    if (engine) {
      rows.push(["Engine", `llama.cpp run by Omnifin, ${engine.state}`]);
      rows.push(["Model file", engine.model]);
      rows.push(["Context window", engine.context_tokens ? `${engine.context_tokens} tokens` : "not known yet"]);
      rows.push(["Threads", String(engine.threads)]);
      rows.push(["Restarts", engine.restarts ? `${engine.restarts} (last run ${engine.last_exit || "ended"})` : "none"]);
      if (engine.queue) rows.push(["Questions", `${engine.queue.running} answering, ${engine.queue.waiting} waiting (at most ${engine.queue.limit})`]);
    }
    mount(
      generator,
      h("h2", { id: "answer-engine-title" }, "Answer engine"),
      h(
        "p",
        { class: "muted" },
        builtin
          ? "These templates take effect only when a language model answers (OMNIFIN_LLM_MODEL or OMNIFIN_LLM_BASE_URL). The built-in answerer does not use them."
          : "The answer template shapes every answer; the rewrite template turns follow-up questions into searches. Each sentence the model cites is checked against its source before it is shown.",
      ),
      h("dl", { class: "engine-facts" }, rows.flatMap(([term, value]) => [h("dt", null, term), h("dd", null, value)])),
    );
  }

  async function load() {
    drawGenerator();
    const data = await api("/api/admin/prompts", { signal });
    state.prompts = data.prompts;
    state.kinds = data.kinds;
    await lookUpUsers(data.prompts.map((prompt) => prompt.created_by), signal).catch(() => {});
  }

  // True when the editor holds something other than the active template.
  function edited() {
    const textarea = editor.querySelector("#prompt-template");
    const active = versionsOf(state.selected).find((prompt) => prompt.active);
    return Boolean(textarea && textarea.value !== (active ? active.template : ""));
  }

  function versionsOf(name) {
    return state.prompts.filter((prompt) => prompt.name === name).sort((a, b) => b.version - a.version);
  }

  function drawList() {
    mount(
      list,
      state.kinds.map((kind) => {
        const active = versionsOf(kind.name).find((prompt) => prompt.active);
        const button = h(
          "button",
          { type: "button", class: "prompt-choice secondary", dataset: { name: kind.name }, "aria-current": state.selected === kind.name ? "true" : null },
          h("span", { class: "prompt-name" }, kind.name),
          h("span", { class: "muted small" }, active ? `version ${active.version} active` : "no active version"),
          h("span", { class: "muted small prompt-purpose" }, kind.purpose),
        );
        button.addEventListener("click", async () => {
          if (kind.name === state.selected) return;
          // Switching prompts redraws the editor: do not throw away an edit without asking.
          if (edited() && !(await confirmDialog("Discard your changes?", `The “${state.selected}” template has changes that are not saved.`, "Discard changes", true))) return;
          select(kind.name, true);
        });
        return h("li", null, button);
      }),
    );
  }

  function select(name, moveFocus) {
    state.selected = name;
    drawList();
    drawEditor();
    if (moveFocus) editor.querySelector("#prompt-template").focus();
  }

  function drawEditor() {
    const name = state.selected;
    const kind = state.kinds.find((item) => item.name === name);
    const versions = versionsOf(name);
    const active = versions.find((prompt) => prompt.active);

    const template = h("textarea", {
      id: "prompt-template",
      name: "template",
      rows: "14",
      spellcheck: "false",
      "aria-describedby": "prompt-placeholders-hint prompt-error",
    });
    template.value = active ? active.template : "";
    const error = h("p", { id: "prompt-error", class: "error", role: "alert", hidden: true });
    const save = h("button", { type: "submit", id: "prompt-save" }, "Save as new version");

    // Clicking a placeholder puts it where the cursor was (the textarea keeps its selection while blurred).
    const placeholder = (placeholderName, required) => {
      const button = h(
        "button",
        { type: "button", class: "placeholder secondary", dataset: { placeholder: placeholderName }, "aria-label": `Insert {{${placeholderName}}}` },
        h("code", null, `{{${placeholderName}}}`),
        h("span", { class: "muted small" }, required ? "required" : "optional"),
      );
      button.addEventListener("click", () => {
        const text = `{{${placeholderName}}}`;
        template.focus();
        template.setRangeText(text, template.selectionStart, template.selectionEnd, "end");
        template.dispatchEvent(new Event("input"));
      });
      return h("li", null, button);
    };

    const form = h(
      "form",
      { class: "prompt-form" },
      h("label", { for: "prompt-template" }, `Template of “${name}”`),
      template,
      h("p", { class: "hint", id: "prompt-placeholders-hint" }, "Placeholders are filled in when the prompt is used. Click one to insert it at the cursor."),
      h(
        "ul",
        { id: "prompt-placeholders", class: "placeholder-list", "aria-label": "Allowed placeholders" },
        kind.required.map((item) => placeholder(item, true)),
        kind.optional.map((item) => placeholder(item, false)),
      ),
      error,
      h("div", { class: "actions" }, save),
    );
    template.addEventListener("input", () => {
      error.hidden = true;
      template.removeAttribute("aria-invalid");
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      save.disabled = true;
      try {
        const created = await api("/api/admin/prompts", { method: "POST", json: { name, template: template.value, activate: true }, signal });
        toast(`Saved version ${created.version} of “${name}”; it is active now.`, "success");
        await load();
        select(name, false);
        const saved = editor.querySelector("#prompt-save");
        if (saved) saved.focus();
      } catch (problem) {
        if (isAbort(problem)) return;
        mount(error, problem.message || String(problem));
        error.hidden = false;
        template.setAttribute("aria-invalid", "true");
        template.focus();
      } finally {
        save.disabled = false;
      }
    });

    mount(
      editor,
      h("h2", { id: "prompt-editor-title" }, `The “${name}” prompt`),
      h("p", { class: "muted" }, `Used for ${kind.purpose}.`),
      form,
      h("h3", { id: "prompt-versions-title" }, "Versions"),
      h("div", { class: "table-wrap" }, versionsTable(versions)),
    );
    editor.hidden = false;
  }

  function versionsTable(versions) {
    return h(
      "table",
      { id: "prompt-versions", "aria-labelledby": "prompt-versions-title" },
      h("caption", { class: "visually-hidden" }, "Versions, newest first"),
      h(
        "thead",
        null,
        h("tr", null, ["Version", "Created", "Author", "Status", "Actions"].map((title) => h("th", { scope: "col" }, title))),
      ),
      h(
        "tbody",
        null,
        versions.map((prompt) => {
          const view = h("button", { type: "button", class: "secondary view-version", "aria-label": `View version ${prompt.version}` }, "View");
          view.addEventListener("click", () => viewer.open(prompt, view));
          const activate = prompt.active
            ? null
            : h("button", { type: "button", class: "activate-version", "aria-label": `Make version ${prompt.version} active` }, "Make active");
          if (activate) {
            activate.addEventListener("click", async () => {
              activate.disabled = true;
              try {
                await api(`/api/admin/prompts/${encodeURIComponent(prompt.id)}`, { method: "PUT", json: { activate: true }, signal });
                toast(`Version ${prompt.version} of “${prompt.name}” is active now.`, "success");
                await load();
                select(prompt.name, false);
                // Focus follows the version that just became active.
                const row = editor.querySelector(`tr[data-prompt-id="${CSS.escape(prompt.id)}"] .view-version`);
                if (row) row.focus();
              } catch (problem) {
                if (isAbort(problem)) return;
                toast(problem.message || String(problem), "error");
                activate.disabled = false;
              }
            });
          }
          return h(
            "tr",
            { dataset: { promptId: prompt.id }, class: prompt.active ? "is-active" : null },
            h("th", { scope: "row" }, `v${prompt.version}`),
            h("td", { class: "nowrap" }, h("time", { datetime: prompt.created_at }, formatDate(prompt.created_at))),
            h("td", null, prompt.created_by ? personLabel(prompt.created_by) : h("span", { class: "muted" }, "built-in default")),
            h("td", null, prompt.active ? h("span", { class: "badge ok active-badge" }, "active") : h("span", { class: "muted" }, "—")),
            h("td", { class: "actions-cell" }, view, activate),
          );
        }),
      ),
    );
  }

  try {
    await load();
  } catch (problem) {
    if (isAbort(problem)) return;
    mount(loadError, problem.message || String(problem));
    loadError.hidden = false;
    return;
  }
  if (!state.kinds.length) {
    mount(loadError, "The server lists no prompt kinds.");
    loadError.hidden = false;
    return;
  }
  select(state.kinds[0].name, false);
}

// A read-only look at one version, in a modal dialog.
function versionDialog() {
  const title = h("h2", { id: "prompt-view-title" });
  const text = h("textarea", { id: "prompt-view-text", readonly: "", rows: "14", "aria-labelledby": "prompt-view-title", spellcheck: "false" });
  const close = h("button", { type: "button", class: "secondary" }, "Close");
  const element = h("dialog", { class: "dialog wide", id: "prompt-view", "aria-labelledby": "prompt-view-title" }, title, text, h("div", { class: "actions" }, close));
  let opener = null;
  close.addEventListener("click", () => element.close());
  element.addEventListener("close", () => opener && opener.focus());
  return {
    element,
    open(prompt, from) {
      opener = from;
      title.textContent = `“${prompt.name}” version ${prompt.version}${prompt.active ? " (active)" : ""}`;
      text.value = prompt.template;
      element.showModal();
      text.focus();
    },
  };
}
