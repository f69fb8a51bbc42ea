// The admin panel's shell: checks who is signed in, builds the top bar, and routes #/users, #/prompts,
// #/analytics and #/audit to their page modules. Each page gets a fresh context whose AbortSignal fires when the
// admin leaves it, so slow requests, timers and the live analytics stream end with the page.

import { currentUser, signOut, ApiError } from "./api.js";
import { h, mount, toast } from "./dom.js";
import { registerServiceWorker } from "./pwa.js";
import * as users from "./admin-users.js";
import * as prompts from "./admin-prompts.js";
import * as analytics from "./admin-analytics.js";
import * as audit from "./admin-audit.js";

const ROUTES = {
  users: { label: "Users", page: users },
  prompts: { label: "Prompts", page: prompts },
  analytics: { label: "Analytics", page: analytics },
  audit: { label: "Audit log", page: audit },
};

let current = null; // {controller, leave: [fn]} of the page on screen
let me = null;

// The sign-in form, and back to the same admin page after it.
function goToSignIn() {
  const page = isRoute(window.location.hash) ? window.location.hash : "";
  window.location.replace("/#/signin?next=" + encodeURIComponent("/admin" + page));
}

// Only "#/…" addresses are the router's; others (the skip link's #main) are anchors on the page.
function isRoute(hash) {
  return hash.startsWith("#/");
}

// "#/users?…" → "users"; anything unknown falls back to the users page.
function routeName() {
  const name = window.location.hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  return ROUTES[name] ? name : "users";
}

function buildNav() {
  const links = Object.entries(ROUTES).map(([name, route]) =>
    h("a", { href: `#/${name}`, id: `admin-nav-${name}` }, route.label),
  );
  const signOutButton = h("button", { type: "button", id: "admin-signout", class: "link" }, "Sign out");
  signOutButton.addEventListener("click", async () => {
    signOutButton.disabled = true;
    try {
      await signOut();
    } catch {
      // Signed out on the server or not: the page goes to the sign-in form either way.
    }
    window.location.assign("/#/signin");
  });
  const nav = document.getElementById("admin-nav-slot");
  mount(
    nav,
    links,
    h("a", { href: "/", id: "admin-nav-app" }, "Back to chat"),
    h("span", { class: "nav-user", title: me.email }, me.display_name),
    signOutButton,
  );
}

function markCurrent(name) {
  for (const key of Object.keys(ROUTES)) {
    const link = document.getElementById(`admin-nav-${key}`);
    if (key === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function leaveCurrent() {
  if (!current) return;
  current.controller.abort();
  for (const fn of current.leave) {
    try {
      fn();
    } catch {
      // A cleanup that fails must not keep the next page from rendering.
    }
  }
  current = null;
}

function show(moveFocus) {
  leaveCurrent();
  const name = routeName();
  const route = ROUTES[name];
  const controller = new AbortController();
  current = { controller, leave: [] };
  const main = document.getElementById("main");
  const container = h("div", { class: `admin-page admin-${name}` });
  mount(main, container);
  markCurrent(name);
  document.title = `${route.label} · Omnifin admin`;
  const context = { user: me, signal: controller.signal, onLeave: (fn) => current && current.leave.push(fn) };
  Promise.resolve(route.page.render(container, context)).catch((error) => {
    if (error && error.name === "AbortError") return;
    mount(container, h("p", { class: "error", role: "alert" }, `This page could not be loaded: ${error.message || error}`));
  });
  // After a click in the nav, put keyboard and screen-reader focus on the new page's heading.
  if (moveFocus) {
    const heading = container.querySelector("h1");
    (heading || main).focus();
  }
}

function denied(user) {
  // Nothing admin-only is rendered or requested: just say why and point back to the chat.
  mount(document.getElementById("admin-nav-slot"), h("a", { href: "/", id: "admin-nav-app" }, "Back to chat"));
  mount(
    document.getElementById("main"),
    h(
      "section",
      { id: "admin-denied", class: "card narrow", "aria-labelledby": "denied-title" },
      h("h1", { id: "denied-title", tabindex: "-1" }, "Administrators only"),
      h("p", null, "The admin panel is for administrators. Your role is ", h("strong", null, user.role), "."),
      h("p", null, "Ask an administrator if you need access."),
      h("p", null, h("a", { href: "/", class: "button" }, "Back to the chat")),
    ),
  );
  document.title = "Administrators only · Omnifin";
}

async function start() {
  registerServiceWorker();
  // The skip link must not change the hash (the router owns it): it only moves focus to <main>.
  document.getElementById("skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    document.getElementById("main").focus();
  });
  window.addEventListener("omnifin:signed-out", goToSignIn);
  window.addEventListener("pagehide", leaveCurrent);
  // Back from the browser's page cache: the page's streams and requests were ended on pagehide, so draw it anew.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted && me && me.role === "admin") show(false);
  });
  try {
    me = await currentUser();
  } catch (error) {
    const retry = h("button", { type: "button" }, "Try again");
    retry.addEventListener("click", () => window.location.reload());
    mount(
      document.getElementById("main"),
      h("p", { class: "error", role: "alert" }, error instanceof ApiError ? error.message : String(error)),
      retry,
    );
    return;
  }
  if (!me) return goToSignIn();
  if (me.role !== "admin") return denied(me);
  buildNav();
  window.addEventListener("hashchange", () => {
    if (isRoute(window.location.hash) || window.location.hash === "") show(true);
  });
  show(false);
}

start().catch((error) => toast(String(error.message || error), "error"));
