// Time ranges as Grafana keeps them in the URL: `now-24h` .. `now`, or epoch milliseconds.

export const RANGES = [
  ["now-15m", "Last 15 minutes"],
  ["now-30m", "Last 30 minutes"],
  ["now-1h", "Last 1 hour"],
  ["now-3h", "Last 3 hours"],
  ["now-6h", "Last 6 hours"],
  ["now-12h", "Last 12 hours"],
  ["now-24h", "Last 24 hours"],
  ["now-2d", "Last 2 days"],
  ["now-7d", "Last 7 days"],
];

export const REFRESHES = [
  ["", "Off"],
  ["5s", "5 s"],
  ["10s", "10 s"],
  ["30s", "30 s"],
  ["1m", "1 m"],
];

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

// Milliseconds of "5s" / "1m" / "now-24h"'s "24h"; null when not a duration.
export function durationMs(text) {
  const m = /^(\d+)([smhdw])$/.exec(text || "");
  return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
}

// Epoch ms of a range end: "now", "now-6h", digits (ms) or an ISO time; null if malformed.
export function resolve(text, now = Date.now()) {
  if (text == null) return null;
  const t = String(text).trim();
  if (t === "now") return now;
  const rel = /^now-(\d+[smhdw])$/.exec(t);
  if (rel) return now - durationMs(rel[1]);
  if (/^\d{10,14}$/.test(t)) return Number(t);
  const iso = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : t + "Z");
  return Number.isNaN(iso) ? null : iso;
}

export function label(from, to) {
  const known = RANGES.find(([f]) => f === from);
  if (known && to === "now") return known[1];
  return `${isoMinute(resolve(from))} to ${isoMinute(resolve(to))} UTC`;
}

// "2026-12-01T21:45" (UTC) for a datetime-local input.
export function isoMinute(ms) {
  return ms == null ? "" : new Date(ms).toISOString().slice(0, 16);
}

// Column values as epoch ms: numbers (s or ms), or ClickHouse's text times (UTC).
export function toMs(v) {
  if (v == null) return null;
  if (typeof v === "number") return v < 1e11 ? v * 1000 : v;
  const s = String(v);
  if (/^\d+(\.\d+)?$/.test(s)) return toMs(Number(s));
  const iso = s.includes("T") ? s : s.replace(" ", "T");
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z");
  return Number.isNaN(ms) ? null : ms;
}
