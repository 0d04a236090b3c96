// The console's HTTP API: relative URLs (the page's <base> is the console's base path),
// the session cookie, and `X-Console: 1` on every state-changing request.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(method, path, body) {
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD") init.headers["X-Console"] = "1";
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, "unreachable", "The console does not answer: " + e.message);
  }
  let data = null;
  try {
    data = await r.json();
  } catch {
    data = null;
  }
  if (!r.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(r.status, err.code || `http_${r.status}`, err.message || `${r.status} ${r.statusText}`);
  }
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body ?? {});
export const del = (path) => api("DELETE", path);

// The page's path below the console's base, e.g. "d/im-redis" ("" for home).
export function route() {
  const base = new URL(document.baseURI).pathname;
  const path = location.pathname;
  return (path.startsWith(base) ? path.slice(base.length) : path.replace(/^\/+/, "")).replace(/\/+$/, "");
}

export function basePath() {
  return new URL(document.baseURI).pathname;
}

// Sent to sign in, coming back to this page after.
export function toLogin() {
  const next = location.pathname + location.search;
  location.assign(`login?next=${encodeURIComponent(next)}`);
}

// Panel queries: at most QUERY_SLOTS in flight (analytics runs 2 at once and answers 503
// to more), and a 503 is tried again after a pause, a few times.
const QUERY_SLOTS = 2;
let running = 0;
const waiting = [];

async function slot() {
  if (running < QUERY_SLOTS) {
    running += 1;
    return;
  }
  await new Promise((resolve) => waiting.push(resolve));
}

function release() {
  const next = waiting.shift();
  if (next) next();
  else running -= 1;
}

export async function panelQuery(path, body) {
  await slot();
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await post(path, body);
      } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 503 || attempt >= 6) throw e;
        await new Promise((resolve) => setTimeout(resolve, 150 * 2 ** attempt));
      }
    }
  } finally {
    release();
  }
}
