// Omnifin's service worker: the page shell (HTML, CSS, scripts, icons) is served network-first and kept for
// offline starts; the API and the audio are never cached. Shell files are kept under their path alone: the query
// of /verify?token=… is a one-time secret that must not be written to disk, and no shell file depends on it.
const CACHE = "omnifin-shell-v2";

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

function isShell(url) {
  return url.pathname === "/" || url.pathname === "/admin" || url.pathname === "/verify" || url.pathname.startsWith("/assets/")
    || url.pathname === "/manifest.webmanifest";
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !isShell(url)) return;
  const key = url.origin + url.pathname;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          // A full disk or a cleared storage only costs the offline copy.
          event.waitUntil(
            caches
              .open(CACHE)
              .then((cache) => cache.put(key, copy))
              .catch(() => {}),
          );
        }
        return response;
      })
      .catch(() =>
        caches
          .match(key, { ignoreSearch: true })
          .then((cached) => cached || Response.error())
          .catch(() => Response.error()),
      ),
  );
});
