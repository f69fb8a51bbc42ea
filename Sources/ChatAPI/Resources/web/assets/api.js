// The REST API as the pages use it: the session lives in an HttpOnly cookie (set by the login below), and every
// unsafe request carries the CSRF token the server derived from it. Errors arrive as ApiError with the server's
// code and message, so pages can show exactly what the server said.

const CSRF_KEY = "omnifin.csrf";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export function setCsrf(token) {
  if (token) sessionStorage.setItem(CSRF_KEY, token);
  else sessionStorage.removeItem(CSRF_KEY);
}

function csrf() {
  return sessionStorage.getItem(CSRF_KEY);
}

async function errorFrom(response) {
  let code = "http_" + response.status;
  let message = response.statusText || "the request failed";
  let field;
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
      field = body.error.field;
    }
  } catch {
    // Not JSON (a proxy page, a dropped connection): keep the status line.
  }
  if (response.status === 429) {
    const wait = response.headers.get("Retry-After");
    if (wait) message += ` (try again in ${wait} s)`;
  }
  return new ApiError(response.status, code, message, field);
}

function request(path, { method = "GET", json, body, headers = {}, accept = "application/json", signal } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: accept, ...headers }, signal };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  const token = csrf();
  if (UNSAFE.has(method) && token) init.headers["X-CSRF-Token"] = token;
  return fetch(path, init);
}

// Calls the API and returns the parsed JSON (null for 204, text for non-JSON answers such as CSV).
// Throws ApiError; a 401 on a route other than login also fires "omnifin:signed-out" on window.
export async function api(path, options = {}) {
  let response;
  try {
    response = await request(path, options);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "offline", "the server cannot be reached; check the connection and try again");
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && !path.startsWith("/api/auth/login")) {
      window.dispatchEvent(new CustomEvent("omnifin:signed-out"));
    }
    throw error;
  }
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("application/json")) return response.json();
  if (type.startsWith("audio/") || type.startsWith("application/octet-stream")) return response.blob();
  return response.text();
}

// Server-Sent Events from a POST (EventSource can only GET): yields {event, data} with data parsed as JSON
// when it is JSON. Stops when the server closes the stream or `signal` aborts.
export async function* events(path, { method = "POST", json, signal } = {}) {
  const response = await request(path, { method, json, signal, accept: "text/event-stream" });
  if (!response.ok) throw await errorFrom(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const parsed = parseEvent(block);
      if (parsed) yield parsed;
    }
  }
  const last = parseEvent(buffer);
  if (last) yield last;
}

function parseEvent(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":") || line === "") continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return null;
  const text = data.join("\n");
  try {
    return { event, data: JSON.parse(text) };
  } catch {
    return { event, data: text };
  }
}

// The signed-in user ({id, email, display_name, role, ...}) or null; refreshes the CSRF token after a reload.
export async function currentUser() {
  try {
    const session = await api("/api/auth/session");
    if (session.csrf_token) setCsrf(session.csrf_token);
    return session.user;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      setCsrf(null);
      return null;
    }
    throw error;
  }
}

export async function signIn(email, password) {
  const result = await api("/api/auth/login", { method: "POST", json: { email, password, use_cookie: true } });
  setCsrf(result.csrf_token);
  return result.user;
}

export async function signOut() {
  try {
    await api("/api/auth/logout", { method: "POST" });
  } finally {
    setCsrf(null);
  }
}

// Fire-and-forget client analytics (stored as client.KIND); failures are ignored on purpose.
export function track(kind, data = {}) {
  api("/api/analytics/events", { method: "POST", json: { kind, data } }).catch(() => {});
}
