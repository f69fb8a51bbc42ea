// Installability: registers the service worker (/sw.js), which keeps the page shell for offline starts and never
// caches the API. The pages enforce Trusted Types, so the worker's address goes through the one policy the
// Content-Security-Policy allows ("omnifin", created once in trusted.js), which accepts nothing but known addresses.

import { trustedScriptURL } from "./trusted.js";

export function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register(trustedScriptURL("/sw.js"), { scope: "/" }).catch(() => {
    // Not fatal: the pages work without it, they are just not available offline.
  });
}
