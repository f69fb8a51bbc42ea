// The web app's shell: the top bar, the hash router (#/chat, #/knowledge, #/profile …) and the session state.
// Each page is a function (main, route, app) that builds its view into <main> and may return an object with
// update(route) (handle a new address without rebuilding, answer true) and destroy() (stop streams, timers).
// On /verify, /reset-password and /setup (links from e-mails and the log) the app shows that page instead of the router.

import { currentUser, setCsrf, signOut, track } from "./api.js";
import { $, h, mount, toast } from "./dom.js";
import { registerServiceWorker } from "./pwa.js";
import { forgotPage, resetPasswordPage, setupPage, signInPage, signUpPage, verifyPage } from "./auth.js";
import { chatPage } from "./chat.js";
import { entryFormPage, entryPage, knowledgePage } from "./knowledge.js";
import { profilePage } from "./profile.js";
import { errorMessage } from "./ui.js";

const ROUTES = [
  { name: "signin", pattern: /^\/signin$/, page: signInPage, public: true },
  { name: "signup", pattern: /^\/signup$/, page: signUpPage, public: true },
  { name: "forgot", pattern: /^\/forgot$/, page: forgotPage, public: true },
  { name: "chat", pattern: /^\/chat(?:\/([^/]+))?$/, page: chatPage, nav: "chat" },
  { name: "knowledge-new", pattern: /^\/knowledge\/new$/, page: entryFormPage, nav: "knowledge" },
  { name: "knowledge-edit", pattern: /^\/knowledge\/([^/]+)\/edit$/, page: entryFormPage, nav: "knowledge" },
  { name: "knowledge-entry", pattern: /^\/knowledge\/([^/]+)$/, page: entryPage, nav: "knowledge" },
  { name: "knowledge", pattern: /^\/knowledge$/, page: knowledgePage, nav: "knowledge" },
  { name: "profile", pattern: /^\/profile$/, page: profilePage, nav: "profile" },
];

const main = $("#main");
let current = null; // {name, instance} of the page on screen
let firstRender = true;

// What pages may use: the signed-in user and a few navigation helpers.
const app = {
  user: null,
  flash: null, // a message for the next page (sign-in after the session ended)

  isEditor() {
    return Boolean(this.user && (this.user.role === "editor" || this.user.role === "admin"));
  },

  navigate(hash) {
    location.hash = hash;
  },

  // Changes the address without a new history entry and shows that page.
  redirect(hash) {
    history.replaceState(null, "", hash);
    route();
  },

  setUser(user) {
    this.user = user;
    renderTopbar();
  },

  takeFlash() {
    const message = this.flash;
    this.flash = null;
    return message;
  },

  // After a successful sign-in: where the user wanted to go (?next=), else the chat.
  signedIn(user, next) {
    this.setUser(user);
    const target = safeNext(next);
    if (target.startsWith("#")) this.redirect(target);
    else location.assign(target);
  },
};

function parseHash() {
  const raw = location.hash.replace(/^#/, "");
  const mark = raw.indexOf("?");
  const path = mark < 0 ? raw : raw.slice(0, mark);
  const query = new URLSearchParams(mark < 0 ? "" : raw.slice(mark + 1));
  return { path, query, raw };
}

function findRoute(path) {
  for (const candidate of ROUTES) {
    const match = candidate.pattern.exec(path);
    if (match) return { ...candidate, params: match.slice(1).map((value) => (value === undefined ? undefined : decodeURIComponent(value))) };
  }
  return null;
}

// `next` may be an app route ("/knowledge/42") or another page of this site ("/admin"); anything that would leave
// the origin ("//evil.example", "https://…") or loop back to a sign-in page becomes the chat.
function safeNext(next) {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "#/chat";
  const path = next.split("?")[0];
  const appRoute = findRoute(path);
  if (appRoute) return appRoute.public ? "#/chat" : "#" + next;
  try {
    const url = new URL(next, location.origin);
    if (url.origin !== location.origin || ["/", "/verify", "/reset-password", "/setup"].includes(url.pathname)) return "#/chat";
    return url.pathname + url.search + url.hash;
  } catch {
    return "#/chat";
  }
}

function renderTopbar() {
  const header = $("#topbar");
  const brand = h(
    "a",
    { class: "brand", href: "/#/chat" },
    h("img", { src: "/assets/icons/icon.svg", alt: "", width: 28, height: 28 }),
    "Omnifin",
  );
  const user = app.user;
  if (!user) {
    mount(header, brand);
    return;
  }
  const link = (id, href, label) => h("a", { id, href, dataset: { nav: id.slice(4) } }, label);
  mount(
    header,
    brand,
    h(
      "nav",
      { "aria-label": "Main" },
      link("nav-chat", "#/chat", "Chat"),
      link("nav-knowledge", "#/knowledge", "Knowledge"),
      link("nav-profile", "#/profile", "Profile"),
      user.role === "admin" ? link("nav-admin", "/admin", "Admin") : null,
    ),
    h(
      "div",
      { class: "user-box" },
      h("span", { id: "user-name", class: "user-name", title: user.email }, user.display_name || user.email),
      h("button", { id: "signout", type: "button", class: "topbar-button", on: { click: onSignOut } }, "Sign out"),
    ),
  );
  markNav(current && current.nav);
}

function markNav(name) {
  for (const link of document.querySelectorAll("#topbar nav a")) {
    if (link.dataset.nav === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function onSignOut() {
  // Forget the user first: if the session had already ended, the 401 of the logout is not "your session ended".
  app.user = null;
  try {
    await signOut();
  } catch {
    // The cookie is cleared or expired either way.
  }
  renderTopbar();
  app.redirect("#/signin");
  toast("You are signed out.");
}

function notFoundPage(container) {
  document.title = "Not found · Omnifin";
  mount(
    container,
    h("section", { class: "card narrow" }, h("h1", null, "Page not found"), h("p", null, "There is nothing at this address."),
      h("a", { class: "button", href: "#/chat" }, "Go to the chat")),
  );
}

function route() {
  const { path, query, raw } = parseHash();
  if (path === "" || path === "/") {
    app.redirect(app.user ? "#/chat" : "#/signin");
    return;
  }
  const found = findRoute(path);
  if (found && !found.public && !app.user) {
    app.redirect("#/signin?next=" + encodeURIComponent(raw));
    return;
  }
  if (found && found.public && app.user) {
    // Already signed in: the sign-in and sign-up pages have nothing to do; go where the user was headed. The
    // admin panel sends people here; a non-admin going back there would loop, so they get the chat.
    const target = safeNext(query.get("next"));
    if (target.startsWith("#")) app.redirect(target);
    else if (target.startsWith("/admin") && app.user.role !== "admin") {
      toast("The admin panel is for administrators.");
      app.redirect("#/chat");
    } else location.replace(target);
    return;
  }
  const info = found ? { name: found.name, params: found.params, query, path } : null;
  if (found && current && current.name === found.name && current.instance && current.instance.update && current.instance.update(info)) {
    trackPage(found.name);
    return;
  }
  if (current && current.instance && current.instance.destroy) current.instance.destroy();
  mount(main);
  main.className = "";
  if (!found) {
    current = { name: "not-found", nav: null, instance: null };
    notFoundPage(main);
  } else {
    current = { name: found.name, nav: found.nav, instance: null };
    current.instance = found.page(main, info, app) || null;
    trackPage(found.name);
  }
  markNav(current.nav);
  // Move focus to the new page's heading so screen readers announce it; not on the first load.
  if (!firstRender) {
    const heading = main.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: false });
    }
  }
  firstRender = false;
}

function trackPage(name) {
  if (app.user) track("page_view", { route: name });
}

// A 401 from any API call: the session expired or was revoked elsewhere.
window.addEventListener("omnifin:signed-out", () => {
  if (!app.user) return;
  app.user = null;
  setCsrf(null);
  renderTopbar();
  app.flash = "Your session has ended. Please sign in again.";
  const { raw } = parseHash();
  app.redirect("#/signin" + (raw && !raw.startsWith("/signin") ? "?next=" + encodeURIComponent(raw) : ""));
});

async function start() {
  registerServiceWorker();
  // The skip link must not change the hash (the router owns it): it only moves focus to <main>.
  $("#skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  // The pages of e-mailed links (and the setup link from the log) stand outside the router.
  const linkPages = { "/verify": verifyPage, "/reset-password": resetPasswordPage, "/setup": setupPage };
  if (linkPages[location.pathname]) {
    renderTopbar();
    mount(main);
    linkPages[location.pathname](main);
    return;
  }
  try {
    app.user = await currentUser();
  } catch (error) {
    renderTopbar();
    mount(
      main,
      h("section", { class: "card narrow" }, h("h1", null, "Omnifin is not reachable"),
        h("p", { class: "error", role: "alert" }, errorMessage(error)),
        h("button", { type: "button", on: { click: () => location.reload() } }, "Try again")),
    );
    return;
  }
  renderTopbar();
  window.addEventListener("hashchange", route);
  route();
}

start();
