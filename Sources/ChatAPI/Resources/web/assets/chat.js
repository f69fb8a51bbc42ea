// The chat page: conversations on the side, the messages of one conversation, the composer (text and voice).
// Answers stream in as Server-Sent Events (token by token); when the turn is done the answer is rebuilt with its
// citation markers as buttons that open the cited passage. Everything the server or the user wrote is inserted as
// text nodes, never parsed as HTML.

import { api, ApiError, events } from "./api.js";
import { formatDate, h, mount, toast } from "./dom.js";
import { highlightNext } from "./knowledge.js";
import { errorMessage, escapeRegExp, icon } from "./ui.js";
import { VoiceInput } from "./voice.js";

const EXAMPLES = [
  "What is the approval limit for invoices?",
  "How do I submit an expense report?",
  "When is the salary paid?",
];
const MARKER = /\[(\d+(?:\s*,\s*\d+)*)\]/g;
const CONVERSATIONS_PAGE = 20;
const MESSAGES_PAGE = 50;

// ---- Citations ------------------------------------------------------------------------------------------------

function markerNumbers(match) {
  return match[1].split(",").map((value) => Number(value.trim()));
}

// The sentences of the answer that cite passage `n`: the text between the previous marker and each [n].
function citedSentences(answer, n) {
  const claims = [];
  let last = 0;
  let previous = "";
  for (const match of answer.matchAll(MARKER)) {
    let claim = answer.slice(last, match.index).replace(/^[\s.,;:!?)\]]+/, "").trim();
    if (!claim) claim = previous; // "[1][2]": both markers cite the same sentence
    if (markerNumbers(match).includes(n) && claim) claims.push(claim);
    previous = claim;
    last = match.index + match[0].length;
  }
  return claims;
}

// The passage as nodes with the sentences the answer took from it in <mark>; when none can be found word for word
// (a paraphrasing language model), the whole passage is the cited span.
function markedPassage(passage, claims) {
  const ranges = [];
  for (const claim of claims) {
    const words = claim.split(/\s+/).filter(Boolean).map(escapeRegExp);
    if (words.length === 0) continue;
    const found = new RegExp(words.join("\\s+"), "i").exec(passage);
    if (found) ranges.push([found.index, found.index + found[0].length]);
  }
  if (ranges.length === 0) return [h("mark", null, passage)];
  ranges.sort((a, b) => a[0] - b[0]);
  const nodes = [];
  let at = 0;
  for (const [start, end] of ranges) {
    if (end <= at) continue;
    const from = Math.max(start, at);
    if (from > at) nodes.push(passage.slice(at, from));
    nodes.push(h("mark", null, passage.slice(from, end)));
    at = end;
  }
  nodes.push(passage.slice(at));
  return nodes;
}

// One <dialog> for every citation of the page, built on first use.
let dialogParts = null;

function citationDialog() {
  if (dialogParts && dialogParts.dialog.isConnected) return dialogParts;
  const title = h("h2", { id: "citation-title" });
  const meta = h("p", { id: "citation-meta", class: "muted" });
  const text = h("div", { id: "citation-text", class: "passage", tabindex: "0", "aria-label": "Cited passage" });
  const link = h("a", { id: "citation-link", class: "button secondary", href: "#/knowledge" }, "Open the knowledge entry");
  const close = h("button", { id: "citation-close", type: "button" }, "Close");
  const dialog = h(
    "dialog",
    { id: "citation-dialog", class: "dialog citation-dialog", "aria-labelledby": "citation-title", "aria-describedby": "citation-meta" },
    title,
    meta,
    text,
    h("div", { class: "actions" }, link, close),
  );
  dialogParts = { dialog, title, meta, text, link, close, opener: null, citation: null };
  close.addEventListener("click", () => dialog.close());
  // The entry page highlights the passage (start/end are its offsets in the entry's body).
  link.addEventListener("click", () => {
    const citation = dialogParts.citation;
    if (citation) highlightNext(citation.document_id, citation.start, citation.end);
    dialogParts.opener = null;
    dialog.close();
  });
  // Clicking the backdrop (outside the dialog's box) closes it too.
  dialog.addEventListener("click", (event) => {
    if (event.target !== dialog) return;
    const box = dialog.getBoundingClientRect();
    const inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
    if (!inside) dialog.close();
  });
  dialog.addEventListener("close", () => {
    const opener = dialogParts.opener;
    if (opener && opener.isConnected) opener.focus();
  });
  document.body.appendChild(dialog);
  return dialogParts;
}

function openCitation(citation, answer, opener) {
  const parts = citationDialog();
  parts.citation = citation;
  parts.opener = opener;
  parts.title.textContent = citation.title || "Untitled entry";
  parts.meta.textContent = `Source ${citation.n}. The highlighted sentences are the ones the answer is based on.`;
  mount(parts.text, markedPassage(citation.passage || citation.snippet || "", citedSentences(answer, citation.n)));
  parts.link.href = "#/knowledge/" + encodeURIComponent(citation.document_id);
  parts.dialog.showModal();
  parts.text.scrollTop = 0;
  const mark = parts.text.querySelector("mark");
  if (mark) mark.scrollIntoView({ block: "nearest" });
  parts.close.focus();
}

// Citations grouped by the document they cite, in the order documents are first cited.
function bySource(citations) {
  const groups = new Map();
  for (const citation of citations) {
    const key = citation.document_id || `n${citation.n}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(citation);
  }
  return Array.from(groups.values());
}

function chip(citation, answer, inline) {
  const button = h(
    "button",
    {
      type: "button",
      class: ["citation-chip", inline && "inline"],
      "aria-label": `Source ${citation.n}: ${citation.title}`,
      "aria-haspopup": "dialog",
      title: citation.title,
    },
    String(citation.n),
  );
  button.addEventListener("click", () => openCitation(citation, answer, button));
  return button;
}

// The answer as text nodes with each valid [n] / [n, m] marker replaced by chips.
function answerNodes(answer, byNumber) {
  const nodes = [];
  let last = 0;
  for (const match of answer.matchAll(MARKER)) {
    const numbers = markerNumbers(match);
    if (!numbers.every((n) => byNumber.has(n))) continue;
    if (match.index > last) nodes.push(answer.slice(last, match.index));
    nodes.push(h("span", { class: "citation-ref" }, numbers.map((n) => chip(byNumber.get(n), answer, true))));
    last = match.index + match[0].length;
  }
  nodes.push(answer.slice(last));
  return nodes;
}

function base64Blob(base64, mime) {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Blob([bytes], { type: mime || "audio/wav" });
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard API or no permission (an unfocused or insecure page): the old selection route.
    const area = h("textarea", { class: "visually-hidden", readonly: true, "aria-hidden": "true", tabindex: "-1" });
    area.value = text;
    document.body.appendChild(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    area.remove();
    return copied;
  }
}

function failureText(error) {
  if (!(error instanceof ApiError)) return "The server cannot be reached; check the connection and try again.";
  const detail = errorMessage(error);
  switch (error.status) {
    case 0:
      return "The server cannot be reached; check the connection and try again.";
    case 429:
      return "Too many questions in a short time. " + detail;
    case 502:
      return "The language model failed to answer. " + detail;
    case 504:
      return "The answer took too long. " + detail;
    default:
      return detail;
  }
}

function userMessage(text) {
  return h("article", { class: "message user", "aria-label": "Your question" }, h("div", { class: "bubble" }, h("p", { class: "message-text" }, text)));
}

// ---- One answer -----------------------------------------------------------------------------------------------

class AssistantMessage {
  constructor(view, { streaming = true } = {}) {
    this.view = view;
    this.tokens = 0;
    this.text = "";
    this.feedback = 0;
    this.messageId = null;
    this.status = h("p", { class: "answer-status muted" }, "Searching the knowledge bank…");
    this.answer = h("div", { class: "answer-text" });
    this.extras = h("div", { class: "answer-extras" });
    this.el = h(
      "article",
      { class: ["message", "assistant", streaming && "streaming"], "aria-label": "Answer", "aria-busy": streaming ? "true" : "false" },
      h("div", { class: "bubble" }, this.status, this.answer, this.extras),
    );
    if (streaming) this.el.dataset.tokens = "0";
    else this.status.hidden = true;
  }

  setStatus(text) {
    this.status.textContent = text;
    this.status.hidden = !text;
  }

  token(text) {
    if (this.tokens === 0) this.setStatus("");
    this.tokens += 1;
    this.text += text;
    this.answer.append(text);
    this.el.dataset.tokens = String(this.tokens);
  }

  // The complete answer (the `done` event, a voice answer or a stored message).
  finish({ answer, citations = [], grounded, message_id: messageId, feedback = 0, cancelled = false, claim_check: claimCheck = null }) {
    this.el.classList.remove("streaming");
    this.el.setAttribute("aria-busy", "false");
    this.setStatus("");
    this.text = answer;
    this.messageId = messageId;
    this.citations = citations;
    const byNumber = new Map(citations.map((citation) => [citation.n, citation]));
    if (grounded === false) {
      this.el.classList.add("no-answer");
      this.el.insertBefore(h("p", { class: "no-answer-label" }, "No answer in the knowledge bank"), this.el.firstChild);
    }
    mount(this.answer, answerNodes(answer, byNumber));
    if (cancelled) this.markStopped();
    mount(this.extras);
    // The streamed text was the model's; what stays is what its sources say.
    if (claimCheck && claimCheck.removed > 0) {
      const count = claimCheck.removed === 1 ? "One sentence" : `${claimCheck.removed} sentences`;
      this.extras.append(h("p", { class: "claim-note muted small" }, `${count} of the generated answer removed: the sources do not say ${claimCheck.removed === 1 ? "it" : "them"}.`));
    }
    if (citations.length > 0) {
      this.extras.append(
        h(
          "div",
          { class: "citations" },
          h("h3", { class: "citations-heading" }, "Sources"),
          h(
            "ol",
            { class: "citation-list" },
            // One entry per document, its cited passages' numbers together: "1 3 Per diem and mileage rates".
            bySource(citations).map((group) =>
              h(
                "li",
                { dataset: { documentId: group[0].document_id } },
                h("span", { class: "citation-chips" }, group.map((citation) => chip(citation, answer, false))),
                h("span", { class: "citation-title" }, group[0].title),
              ),
            ),
          ),
        ),
      );
    }
    if (messageId) this.extras.append(this.actions(feedback));
  }

  actions(feedback) {
    this.up = h("button", { type: "button", class: "icon-button feedback-up", "aria-label": "Helpful", title: "Helpful", "aria-pressed": "false" }, icon("up"));
    this.down = h(
      "button",
      { type: "button", class: "icon-button feedback-down", "aria-label": "Not helpful", title: "Not helpful", "aria-pressed": "false" },
      icon("down"),
    );
    const copy = h("button", { type: "button", class: "icon-button copy-answer", "aria-label": "Copy answer", title: "Copy answer" }, icon("copy"));
    this.up.addEventListener("click", () => this.sendFeedback(1));
    this.down.addEventListener("click", () => this.sendFeedback(-1));
    copy.addEventListener("click", () => this.copy());
    this.showFeedback(feedback || 0);
    return h("div", { class: "message-actions", role: "group", "aria-label": "Answer actions" }, this.up, this.down, copy);
  }

  showFeedback(value) {
    this.feedback = value;
    this.up.setAttribute("aria-pressed", value === 1 ? "true" : "false");
    this.down.setAttribute("aria-pressed", value === -1 ? "true" : "false");
  }

  // Pressing the pressed button again clears the vote (0).
  async sendFeedback(value) {
    const previous = this.feedback;
    const next = previous === value ? 0 : value;
    this.showFeedback(next);
    try {
      await api("/api/chat/feedback", { method: "POST", json: { message_id: this.messageId, value: next } });
      if (next !== 0) toast("Thanks for your feedback.");
    } catch (error) {
      this.showFeedback(previous);
      toast(errorMessage(error), "error");
    }
  }

  async copy() {
    let text = this.text;
    if (this.citations && this.citations.length > 0) {
      text += "\n\nSources:\n" + bySource(this.citations).map((group) => group.map((c) => `[${c.n}]`).join("") + " " + group[0].title).join("\n");
    }
    if (await copyText(text)) toast("Answer copied.", "success");
    else toast("Copying is not allowed here; select the answer to copy it.", "error");
  }

  addAudio(audio) {
    if (!audio || !audio.base64) return null;
    const url = URL.createObjectURL(base64Blob(audio.base64, audio.mime));
    this.view.blobUrls.push(url);
    const player = h("audio", { class: "answer-audio", controls: true, preload: "auto", src: url, "aria-label": "Spoken answer" });
    this.extras.insertBefore(player, this.extras.firstChild);
    return player;
  }

  markStopped() {
    this.el.classList.remove("streaming");
    this.el.classList.add("stopped");
    this.el.setAttribute("aria-busy", "false");
    this.extras.before(h("p", { class: "stopped-label muted" }, this.text ? "Stopped." : "Stopped before an answer arrived."));
    this.setStatus("");
  }

  fail(error, retry) {
    this.el.classList.remove("streaming");
    this.el.classList.add("failed");
    this.el.setAttribute("aria-busy", "false");
    this.setStatus("");
    const button = retry ? h("button", { type: "button", class: "secondary retry" }, icon("retry"), "Try again") : null;
    if (button) button.addEventListener("click", retry);
    this.extras.append(h("div", { class: "message-error", role: "alert" }, h("p", null, failureText(error)), button));
  }
}

// ---- The page -------------------------------------------------------------------------------------------------

class ChatView {
  constructor(main, app) {
    this.app = app;
    this.conversationId = null;
    this.conversationTitles = new Map();
    this.nextConversations = null;
    this.controller = null;
    this.busy = false;
    this.view = 0; // raised whenever another conversation is shown, so late answers for the old one are dropped
    this.blobUrls = [];
    this.destroyed = false;
    this.build(main);
    this.voice = new VoiceInput({
      button: this.voiceButton,
      status: this.voiceStatus,
      onRecorded: (wav) => this.sendVoice(wav),
      canStart: () => !this.busy,
    });
    this.loadConversations(false);
    this.checkVoice();
  }

  build(main) {
    main.classList.add("chat-main-area");
    this.list = h("ul", { id: "conversation-list", class: "conversation-list" });
    this.listStatus = h("p", { class: "muted list-status", role: "status" });
    this.more = h("button", { id: "conversations-more", type: "button", class: "secondary wide", hidden: true }, "Load more");
    this.more.addEventListener("click", () => this.loadConversations(true));
    const newButton = h("button", { id: "new-conversation", type: "button", class: "wide" }, icon("plus"), "New conversation");
    newButton.addEventListener("click", () => this.newConversation());
    this.panel = h(
      "nav",
      { id: "conversations-panel", class: "conversations", "aria-labelledby": "conversations-heading" },
      h("h2", { id: "conversations-heading" }, "Conversations"),
      newButton,
      this.list,
      this.listStatus,
      this.more,
    );
    this.toggle = h(
      "button",
      { id: "conversations-toggle", type: "button", class: "secondary", "aria-expanded": "false", "aria-controls": "conversations-panel" },
      icon("list"),
      h("span", { class: "label" }, "Conversations"),
    );
    this.toggle.addEventListener("click", () => this.setDrawer(!this.panel.classList.contains("open")));

    this.title = h("h1", { id: "chat-title", class: "chat-title" }, "New conversation");
    this.messages = h("div", { id: "messages", class: "messages", "aria-labelledby": "chat-title" });
    // Screen readers hear each answer once it is complete, not token by token.
    this.live = h("div", { id: "chat-live", class: "visually-hidden", role: "status", "aria-live": "polite" });

    this.input = h("textarea", {
      id: "chat-input",
      name: "message",
      rows: 1,
      placeholder: "Ask a question…",
      "aria-describedby": "chat-input-hint",
      autocomplete: "off",
      maxlength: 4000,
    });
    this.input.addEventListener("keydown", (event) => {
      // Enter sends, Shift+Enter is a new line; not while an input method is composing a character.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      } else if (event.key === "Escape" && this.busy) {
        event.preventDefault();
        this.abort(); // Escape stops the answer, like the Stop button
      }
    });
    this.input.addEventListener("input", () => this.fitInput());
    this.send = h("button", { id: "chat-send", type: "submit", class: "send" }, icon("send"), h("span", { class: "label" }, "Send"));
    this.stop = h("button", { id: "chat-stop", type: "button", class: "danger", hidden: true }, icon("stop"), h("span", { class: "label" }, "Stop"));
    this.stop.addEventListener("click", () => this.abort());
    this.voiceButton = h("button", { id: "voice-button", type: "button", class: "secondary voice-button" }, icon("mic"));
    this.voiceStatus = h("p", { id: "voice-status", class: "voice-status", role: "status", "aria-live": "polite", hidden: true });
    this.voiceOff = h("p", { id: "voice-unavailable", class: "hint voice-unavailable", hidden: true });
    const composer = h(
      "form",
      { id: "composer", class: "composer", "aria-label": "Ask a question", on: { submit: (event) => {
        event.preventDefault();
        this.submit();
      } } },
      this.voiceStatus,
      h(
        "div",
        { class: "composer-row" },
        h("label", { for: "chat-input", class: "visually-hidden" }, "Your question"),
        this.input,
        this.voiceButton,
        this.send,
        this.stop,
      ),
      h("p", { id: "chat-input-hint", class: "hint composer-hint" }, "Enter sends, Shift+Enter starts a new line, Escape stops an answer."),
      this.voiceOff,
    );

    mount(
      main,
      h(
        "div",
        { class: "chat-layout" },
        this.panel,
        h(
          "section",
          { class: "chat-main", "aria-labelledby": "chat-title" },
          h("div", { class: "chat-head" }, this.toggle, this.title),
          this.messages,
          this.live,
          composer,
        ),
      ),
    );
  }

  // ---- Router hooks

  update(route) {
    const id = route.params[0] || null;
    this.setDrawer(false);
    if (id !== this.conversationId || !id) this.open(id);
    return true;
  }

  destroy() {
    this.destroyed = true;
    this.abort();
    this.voice.close();
    if (dialogParts && dialogParts.dialog.open) dialogParts.dialog.close();
    for (const url of this.blobUrls) URL.revokeObjectURL(url);
    this.blobUrls = [];
  }

  // Voice questions need the server's speech recognition and speech synthesis (it has no voice route without
  // both): when either is missing the microphone button is turned off, with the reason under the composer. When
  // the status cannot be read the button stays; the server's answer to a recording explains any refusal.
  async checkVoice() {
    let status;
    try {
      status = await api("/api/chat/status");
    } catch {
      return;
    }
    if (this.destroyed) return;
    const missing = [
      ["speech recognition", status.stt],
      ["speech synthesis", status.tts],
    ].filter(([, component]) => !component || !component.available);
    if (missing.length === 0) return;
    let reason = `Voice questions are not available on this server (no ${missing.map(([what]) => what).join(" and no ")}); type your question instead.`;
    // Administrators also get what the server says is missing (which package to install).
    const details = missing.map(([, component]) => component && component.detail).filter(Boolean);
    if (this.app.user && this.app.user.role === "admin" && details.length > 0) reason += ` The server says: ${details.join("; ")}.`;
    this.voice.setUnavailable(reason);
    this.voiceOff.textContent = reason;
    this.voiceOff.hidden = false;
    this.voiceButton.setAttribute("aria-describedby", "voice-unavailable");
  }

  // ---- Conversations

  setDrawer(open) {
    this.panel.classList.toggle("open", open);
    this.toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }

  newConversation() {
    this.setDrawer(false);
    if (location.hash !== "#/chat") location.hash = "#/chat"; // the router calls update(), which opens it
    else this.open(null);
    this.input.focus();
  }

  async loadConversations(more) {
    const params = new URLSearchParams({ limit: String(CONVERSATIONS_PAGE) });
    if (more && this.nextConversations) params.set("before", this.nextConversations);
    const request = (this.listRequest = (this.listRequest || 0) + 1);
    this.more.disabled = true;
    try {
      const page = await api("/api/chat/history?" + params);
      if (request !== this.listRequest || this.destroyed) return;
      if (!more) mount(this.list);
      for (const conversation of page.conversations) {
        this.conversationTitles.set(conversation.id, conversation.title);
        // One asked again meanwhile is already on top of the list (showConversationFirst).
        if (more && this.listItem(conversation.id)) continue;
        this.list.append(this.conversationItem(conversation));
      }
      this.nextConversations = page.next || null;
      this.more.hidden = !page.next;
      this.listStatus.textContent = this.list.children.length === 0 ? "No conversations yet." : "";
      this.markActive();
    } catch (error) {
      if (request === this.listRequest) this.listStatus.textContent = "The conversations could not be loaded: " + errorMessage(error);
    } finally {
      this.more.disabled = false;
    }
  }

  conversationItem(conversation) {
    return h(
      "li",
      { class: "conversation", dataset: { id: conversation.id } },
      h(
        "a",
        { href: "#/chat/" + encodeURIComponent(conversation.id) },
        h("span", { class: "conversation-title" }, conversation.title || "Untitled conversation"),
        h("time", { class: "conversation-date", datetime: conversation.updated_at }, formatDate(conversation.updated_at)),
      ),
    );
  }

  listItem(id) {
    return Array.from(this.list.children).find((item) => item.dataset.id === id) || null;
  }

  // After a turn the conversation is the most recently updated one: it moves to (or appears at) the top, and the
  // pages already loaded with "Load more" stay as they are.
  async showConversationFirst(id) {
    let conversation = { id, title: this.conversationTitles.get(id) || this.title.textContent, updated_at: new Date().toISOString() };
    try {
      const page = await api("/api/chat/history?" + new URLSearchParams({ conversation_id: id, limit: "1" }));
      conversation = page.conversation;
    } catch {
      // The list shows what the page knows; the next visit reads it again.
    }
    if (this.destroyed) return;
    this.conversationTitles.set(id, conversation.title);
    const old = this.listItem(id);
    if (old) old.remove();
    this.list.prepend(this.conversationItem(conversation));
    this.listStatus.textContent = "";
    this.markActive();
  }

  markActive() {
    for (const item of this.list.querySelectorAll(".conversation")) {
      const link = item.querySelector("a");
      if (item.dataset.id === this.conversationId) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  // Shows a conversation (null: a new, empty one).
  open(id) {
    this.abort();
    this.view += 1;
    this.conversationId = id;
    this.markActive();
    mount(this.messages);
    if (!id) {
      this.title.textContent = "New conversation";
      document.title = "Chat · Omnifin";
      this.showEmpty();
      return;
    }
    this.title.textContent = this.conversationTitles.get(id) || "Conversation";
    document.title = this.title.textContent + " · Omnifin";
    this.loadMessages(id, null);
  }

  async loadMessages(id, before) {
    const view = this.view;
    const params = new URLSearchParams({ conversation_id: id, limit: String(MESSAGES_PAGE) });
    if (before) params.set("before", before);
    const loading = h("p", { class: "muted loading" }, "Loading the conversation…");
    if (!before) this.messages.append(loading);
    try {
      const page = await api("/api/chat/history?" + params);
      if (view !== this.view || this.destroyed) return;
      loading.remove();
      this.title.textContent = page.conversation.title || "Conversation";
      document.title = this.title.textContent + " · Omnifin";
      const nodes = page.messages.map((message) => this.storedMessage(message));
      const earlier = this.messages.querySelector(".load-earlier");
      if (earlier) earlier.remove();
      this.messages.prepend(...nodes);
      if (page.next) {
        const button = h("button", { type: "button", class: "secondary load-earlier" }, "Show earlier messages");
        button.addEventListener("click", () => this.loadMessages(id, page.next));
        this.messages.prepend(button);
      }
      if (!before && nodes.length > 0) window.scrollTo(0, document.documentElement.scrollHeight);
    } catch (error) {
      if (view !== this.view) return;
      loading.remove();
      const message = error.status === 404 ? "This conversation does not exist, or it is not yours." : errorMessage(error);
      this.messages.append(h("div", { class: "error", role: "alert" }, message, " ", h("a", { href: "#/chat" }, "Start a new conversation")));
    }
  }

  storedMessage(message) {
    if (message.role === "user") return userMessage(message.content);
    const answer = new AssistantMessage(this, { streaming: false });
    answer.finish({
      answer: message.content,
      citations: message.citations || [],
      grounded: message.grounded,
      message_id: message.id,
      feedback: message.feedback || 0,
      cancelled: Boolean(message.timings && message.timings.cancelled),
    });
    return answer.el;
  }

  showEmpty() {
    const examples = EXAMPLES.map((question) => {
      const button = h("button", { type: "button", class: "secondary example-question" }, question);
      button.addEventListener("click", () => this.ask(question));
      return h("li", null, button);
    });
    this.messages.append(
      h(
        "div",
        { class: "empty-state", id: "chat-empty" },
        h("h2", null, "Ask the knowledge bank"),
        h("p", { class: "muted" }, "Answers come from your team's finance knowledge, with their sources. Type a question, use the microphone, or try one of these:"),
        h("ul", { class: "examples" }, examples),
      ),
    );
  }

  hideEmpty() {
    const empty = this.messages.querySelector(".empty-state");
    if (empty) empty.remove();
  }

  // ---- Asking

  // The text box grows with the question up to 200 px, then scrolls.
  fitInput() {
    this.input.style.height = "auto";
    const height = this.input.scrollHeight + 2;
    this.input.style.height = Math.min(height, 200) + "px";
    this.input.style.overflowY = height > 200 ? "auto" : "hidden";
  }

  submit() {
    if (this.busy) return;
    const question = this.input.value.trim();
    if (!question) {
      this.input.focus();
      return;
    }
    this.input.value = "";
    this.fitInput();
    this.ask(question);
  }

  // While answering, Stop takes Send's place. Focus stays where it is (in the text box the next question can be
  // typed), except that a focused button being hidden hands its focus to the one that replaces it.
  setBusy(busy) {
    const focused = document.activeElement;
    this.busy = busy;
    this.send.disabled = busy;
    this.send.hidden = busy;
    this.stop.hidden = !busy;
    this.voiceButton.disabled = busy || Boolean(this.voice.unavailable);
    if (busy && focused === this.send) this.stop.focus();
    else if (!busy && (focused === this.stop || focused === document.body)) this.input.focus();
  }

  abort() {
    if (this.controller) this.controller.abort();
  }

  nearBottom() {
    return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
  }

  appendTurn(question, userNode) {
    this.hideEmpty();
    const user = userNode || userMessage(question);
    const answer = new AssistantMessage(this);
    this.messages.append(user, answer.el);
    window.scrollTo(0, document.documentElement.scrollHeight); // the composer is sticky: scroll to the very end
    if (!this.conversationId) this.title.textContent = question;
    return { user, answer };
  }

  // After a turn: the address names the conversation, and the list shows it on top.
  turnEnded(view) {
    if (view !== this.view || this.destroyed || !this.conversationId) return;
    const hash = "#/chat/" + encodeURIComponent(this.conversationId);
    if (location.hash !== hash) history.replaceState(null, "", hash);
    this.showConversationFirst(this.conversationId);
  }

  async ask(question) {
    if (this.busy) return;
    // A typed question wins over a recording still running (the two cannot be answered at once).
    if (this.voice.recording) this.voice.cancel("Recording discarded: the typed question was sent instead.");
    const view = this.view;
    const { user, answer } = this.appendTurn(question);
    const controller = (this.controller = new AbortController());
    this.setBusy(true);
    this.live.textContent = "Answering…";
    let result = null;
    try {
      const stream = events("/api/chat/message", {
        json: { message: question, conversation_id: this.conversationId || undefined },
        signal: controller.signal,
      });
      for await (const { event, data } of stream) {
        if (event === "meta") {
          this.conversationId = data.conversation_id;
        } else if (event === "token") {
          const follow = this.nearBottom();
          answer.token(data.text);
          if (follow) window.scrollTo(0, document.documentElement.scrollHeight);
        } else if (event === "done") {
          result = data;
        } else if (event === "error") {
          throw new ApiError(data.status || 502, data.code, data.message);
        }
      }
      if (!result) throw new ApiError(500, "interrupted", "the connection closed before the answer was complete; try again");
      this.conversationId = result.conversation_id;
      answer.finish(result);
      this.live.textContent = (result.grounded ? "Answer: " : "No answer in the knowledge bank. ") + result.answer;
    } catch (error) {
      if (error.name === "AbortError") {
        answer.markStopped();
        this.live.textContent = "Stopped.";
      } else {
        if (error instanceof ApiError && error.status === 401) {
          // events() does not announce a 401 the way api() does; the app then goes to sign-in.
          window.dispatchEvent(new CustomEvent("omnifin:signed-out"));
          return;
        }
        answer.fail(error, () => {
          user.remove();
          answer.el.remove();
          this.ask(question);
        });
        this.live.textContent = failureText(error);
      }
    } finally {
      if (this.controller === controller) this.controller = null;
      if (!this.destroyed) this.setBusy(false);
      this.turnEnded(view);
    }
  }

  async sendVoice(wav) {
    if (this.busy) return;
    const view = this.view;
    const pending = userMessage("Transcribing your question…");
    pending.classList.add("pending");
    const { answer } = this.appendTurn("Voice question", pending);
    answer.setStatus("Listening to the recording…");
    const controller = (this.controller = new AbortController());
    this.setBusy(true);
    try {
      const query = this.conversationId ? "?conversation_id=" + encodeURIComponent(this.conversationId) : "";
      const result = await api("/api/chat/voice" + query, {
        method: "POST",
        body: wav,
        headers: { "Content-Type": "audio/wav" },
        signal: controller.signal,
      });
      if (view !== this.view || this.destroyed) return;
      if (result.needs_confirmation) {
        // Too uncertain to answer: nothing was stored; the user sends the transcript, or corrects it first.
        pending.remove();
        answer.el.remove();
        if (!this.conversationId) this.title.textContent = "New conversation";
        this.confirmTranscript(result);
        return;
      }
      pending.classList.remove("pending");
      mount(pending.querySelector(".message-text"), result.transcript);
      if (this.title.textContent === "Voice question" || this.title.textContent === "New conversation") this.title.textContent = result.transcript;
      this.conversationId = result.conversation_id;
      answer.finish(result);
      const player = answer.addAudio(result.audio);
      this.voice.setStatus("");
      this.live.textContent = `You asked: ${result.transcript}. ` + (result.grounded ? "Answer: " : "No answer in the knowledge bank. ") + result.answer;
      if (player) player.play().catch(() => {}); // autoplay may be refused; the controls are there
    } catch (error) {
      pending.remove();
      answer.el.remove();
      if (!this.conversationId) this.title.textContent = "New conversation";
      if (!this.messages.querySelector(".message")) this.showEmpty();
      if (error.name === "AbortError") this.voice.setStatus("Cancelled.");
      else this.voice.setStatus(voiceFailure(error), "error");
    } finally {
      if (this.controller === controller) this.controller = null;
      if (!this.destroyed) this.setBusy(false);
      this.turnEnded(view);
    }
  }

  // The transcript of a recording the recogniser was unsure of, with its confidence: "Send it" asks it as typed
  // text, "Edit" puts it in the text box to correct first. The server's spoken "did you say …" plays meanwhile.
  confirmTranscript(result) {
    this.hideEmpty();
    const percent = Math.round((result.confidence ?? 0) * 100);
    const send = h("button", { type: "button", class: "primary confirm-send" }, "Send it");
    const edit = h("button", { type: "button", class: "secondary confirm-edit" }, "Edit");
    const card = h(
      "article",
      { class: "message user confirm-transcript", "aria-label": "Check what was heard" },
      h(
        "div",
        { class: "bubble" },
        h("p", { class: "muted confirm-note" }, `Not sure I heard that right (confidence ${percent} %). Did you say:`),
        h("p", { class: "message-text" }, result.transcript),
        h("div", { class: "confirm-actions" }, send, edit),
      ),
    );
    send.addEventListener("click", () => {
      card.remove();
      this.ask(result.transcript);
    });
    edit.addEventListener("click", () => {
      card.remove();
      this.input.value = result.transcript;
      this.fitInput();
      this.input.focus();
    });
    this.messages.append(card);
    if (result.audio && result.audio.base64) {
      const url = URL.createObjectURL(base64Blob(result.audio.base64, result.audio.mime));
      this.blobUrls.push(url);
      const player = h("audio", { class: "answer-audio", controls: true, preload: "auto", src: url, "aria-label": "Spoken question back" });
      card.querySelector(".bubble").append(player);
      player.play().catch(() => {});
    }
    window.scrollTo(0, document.documentElement.scrollHeight);
    this.voice.setStatus("Check what was heard, then send it or edit it.");
    this.live.textContent = `Not sure I heard that right. Did you say: ${result.transcript}? Send it or edit it.`;
    send.focus();
  }
}

function voiceFailure(error) {
  const detail = errorMessage(error);
  if (!(error instanceof ApiError)) return "The recording could not be sent: " + detail;
  // A 404 names either the conversation (deleted meanwhile) or the route itself (voice is off on this server).
  if (error.status === 404 && !/conversation/i.test(error.message)) return "Voice questions are not available on this server. " + detail;
  if ([400, 413, 415, 422].includes(error.status)) return "The recording was not accepted: " + detail;
  return failureText(error);
}

export function chatPage(main, route, app) {
  const view = new ChatView(main, app);
  view.open(route.params[0] || null);
  return view;
}
