// The one Trusted Types policy the Content-Security-Policy allows ("omnifin"). A policy name can be created only
// once per page, so every module that loads a script by URL goes through this one. It creates script URLs only, and
// only for the page's own scripts that are loaded by address (the service worker and the recorder worklet); it
// never creates HTML, so no string can ever become markup.

const SCRIPT_URLS = new Set(["/sw.js", "/assets/recorder-worklet.js"]);

let policy = null;

function checked(value) {
  if (!SCRIPT_URLS.has(value)) throw new TypeError(`refusing script URL ${value}`);
  return value;
}

// A TrustedScriptURL for one of the known same-origin scripts (a plain string where Trusted Types are unsupported).
export function trustedScriptURL(url) {
  checked(url);
  if (!window.trustedTypes) return url;
  if (!policy) policy = window.trustedTypes.createPolicy("omnifin", { createScriptURL: checked });
  return policy.createScriptURL(url);
}
