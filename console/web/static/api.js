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

// Panel queries: at most two in flight (analytics runs 2 at once and answers 503 to more),
// and of those at most one `heavy` (over raw events: two of those at once only slow each
// other down on a small machine, while the quick ones wait); a 503 is tried again after a
// pause, a few times.
class Gate {
  constructor(n) {
    this.free = n;
    this.waiting = [];
  }

  // null when taken at once (no await: the caller goes on in the same turn, so queries
  // start in the order they were asked for), else a promise of the turn.
  take() {
    if (this.free > 0) {
      this.free -= 1;
      return null;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  give() {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}

const slots = new Gate(2);
const heavyLane = new Gate(1);

export async function panelQuery(path, body, heavy = false) {
  const lane = heavy ? heavyLane.take() : null;
  if (lane) await lane;
  const slot = slots.take();
  if (slot) await slot;
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
    slots.give();
    if (heavy) heavyLane.give();
  }
}
