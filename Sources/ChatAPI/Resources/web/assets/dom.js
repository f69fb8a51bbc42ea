// Building the page from data without ever parsing data as HTML: every string becomes a text node or an attribute
// value. The pages run under Trusted Types, so innerHTML and friends would throw anyway; use these helpers.

const SVG_NS = "http://www.w3.org/2000/svg";

function append(parent, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const item of child) append(parent, item);
  } else if (child instanceof Node) {
    parent.appendChild(child);
  } else {
    parent.appendChild(document.createTextNode(String(child)));
  }
}

function apply(element, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") element.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    else if (key === "text") element.textContent = String(value);
    else if (key === "on") for (const [name, handler] of Object.entries(value)) element.addEventListener(name, handler);
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key === "value" && "value" in element) element.value = value;
    else if (key === "checked" || key === "disabled" || key === "selected" || key === "hidden" || key === "required") element[key] = Boolean(value);
    else if (/^on/i.test(key)) throw new Error(`event handler attributes are not allowed (${key}); use on: {…}`);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
}

// h("button", {class: "primary", on: {click}}, "Send") → <button class="primary">Send</button>
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  apply(element, props);
  append(element, children);
  return element;
}

// The same for SVG elements (charts, icons).
export function s(tag, props, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  apply(element, props);
  append(element, children);
  return element;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

// Replaces a node's children (no argument empties it).
export function mount(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
  return parent;
}

// A short message in the page's live region (#toasts, role=status), gone after a few seconds.
export function toast(message, kind = "info") {
  let region = document.getElementById("toasts");
  if (!region) {
    region = h("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" });
    document.body.appendChild(region);
  }
  const item = h("div", { class: ["toast", kind] }, message);
  region.appendChild(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}

export function formatDate(iso, withTime = true) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return withTime
    ? date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })
    : date.toLocaleDateString(undefined, { dateStyle: "medium" });
}

export function formatNumber(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return Number(value).toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

// Shows an ApiError (or any error) in a form's error slot, focusing the offending field when the server named it.
export function showError(slot, error, form) {
  mount(slot, error && error.message ? error.message : String(error));
  slot.hidden = false;
  if (form && error && error.field) {
    const input = form.querySelector(`[name="${CSS.escape(error.field)}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }
}

export function clearError(slot, form) {
  slot.hidden = true;
  slot.replaceChildren();
  if (form) for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

// A modal dialog (<dialog>) that resolves true when confirmed; Escape or Cancel resolves false.
export function confirmDialog(title, message, confirmLabel = "Confirm", danger = false) {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": "confirm-title" },
      h("h2", { id: "confirm-title" }, title),
      h("p", null, message),
      h(
        "form",
        { method: "dialog", class: "actions" },
        h("button", { value: "cancel", class: "secondary" }, "Cancel"),
        h("button", { value: "confirm", class: danger ? "danger" : "primary", id: "confirm-ok" }, confirmLabel),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "confirm");
      dialog.remove();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}
