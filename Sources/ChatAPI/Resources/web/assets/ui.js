// Small helpers the web app's pages share: icons, messages, per-field form errors, debouncing.

import { h, s } from "./dom.js";

// Outline icons (24 × 24, drawn with the text colour); always decorative, the button carries the label.
const ICONS = {
  send: ["M4 12l16-8-6 16-2.5-6.5z", "M11.5 13.5L20 4"],
  stop: ["M7 7h10v10H7z"],
  mic: ["M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z", "M5 11a7 7 0 0 0 14 0", "M12 18v3", "M9 21h6"],
  up: ["M7 11v9H4v-9z", "M7 11l4-8a2 2 0 0 1 3 2l-1 5h6a2 2 0 0 1 2 2.3l-1.3 6A2 2 0 0 1 17.7 20H7"],
  down: ["M7 13V4H4v9z", "M7 13l4 8a2 2 0 0 0 3-2l-1-5h6a2 2 0 0 0 2-2.3l-1.3-6A2 2 0 0 0 17.7 4H7"],
  copy: ["M9 9h11v11H9z", "M5 15H4V4h11v1"],
  plus: ["M12 5v14", "M5 12h14"],
  list: ["M4 6h16", "M4 12h16", "M4 18h16"],
  retry: ["M4 12a8 8 0 1 0 2.4-5.7", "M4 4v5h5"],
};

export function icon(name) {
  return s(
    "svg",
    { class: "icon", viewBox: "0 0 24 24", width: 20, height: 20, "aria-hidden": "true", focusable: "false" },
    (ICONS[name] || []).map((d) => s("path", { d })),
  );
}

// The server writes its messages in lower case ("the e-mail address or the password is wrong"); a page shows them
// as sentences.
export function sentence(text) {
  const value = String(text || "").trim();
  if (!value) return "";
  const capital = value.charAt(0).toUpperCase() + value.slice(1);
  return /[.!?)]$/.test(capital) ? capital : capital + ".";
}

export function errorMessage(error) {
  return sentence(error && error.message ? error.message : String(error));
}

// A form field with its label, an optional hint and an error slot (ids derived from the input's id), so every
// input is labelled and its error is announced with it.
export function field(label, input, hint) {
  const id = input.id;
  const hintId = hint ? id + "-hint" : null;
  const errorId = id + "-error";
  input.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    input,
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    h("p", { class: "field-error", id: errorId, hidden: true }),
  );
}

// Shows an error at the field the server named (`field` may be "tags[2]" or "metadata.x"; the input's name is the
// part before), or in the form's general slot. Returns true when a field took it.
export function showFieldError(form, error, generalSlot) {
  const name = error && error.field ? String(error.field).split(/[.[]/)[0] : null;
  const input = name ? form.querySelector(`[name="${CSS.escape(name)}"]`) : null;
  if (input) {
    const slot = document.getElementById(input.id + "-error");
    input.setAttribute("aria-invalid", "true");
    if (slot) {
      slot.textContent = errorMessage(error);
      slot.hidden = false;
    }
    input.focus();
    return true;
  }
  if (generalSlot) {
    generalSlot.textContent = errorMessage(error);
    generalSlot.hidden = false;
  }
  return false;
}

export function clearFieldErrors(form, generalSlot) {
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  for (const slot of form.querySelectorAll(".field-error")) {
    slot.hidden = true;
    slot.textContent = "";
  }
  if (generalSlot) {
    generalSlot.hidden = true;
    generalSlot.replaceChildren();
  }
}

export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

export function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// Text with every occurrence of the given terms wrapped in <mark> (as nodes, never markup).
export function highlightTerms(text, terms) {
  const words = terms.filter((term) => term.length > 1).map(escapeRegExp);
  if (words.length === 0) return [text];
  const pattern = new RegExp(`(${words.join("|")})`, "gi");
  return text.split(pattern).map((part, index) => (index % 2 === 1 ? h("mark", null, part) : part));
}

// A passage flattened to one line and cut to about `length` characters around the first query term.
export function snippetAround(text, terms, length = 240) {
  const flat = String(text).replace(/\s+/g, " ").trim();
  if (flat.length <= length) return flat;
  const lower = flat.toLowerCase();
  let at = -1;
  for (const term of terms) {
    const found = lower.indexOf(term.toLowerCase());
    if (found >= 0 && (at < 0 || found < at)) at = found;
  }
  let start = Math.max(0, at - Math.floor(length / 3));
  if (start > 0) {
    const space = flat.indexOf(" ", start);
    if (space > 0 && space - start < 30) start = space + 1;
  }
  const end = Math.min(flat.length, start + length);
  return (start > 0 ? "…" : "") + flat.slice(start, end).trim() + (end < flat.length ? "…" : "");
}

export function queryTerms(query) {
  return String(query)
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 2);
}
