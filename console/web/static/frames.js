// Query answers ({columns: [{name, type}], rows}) shaped for panels: column kinds, the
// time series of a `time` column (long rows pivoted by their text columns, as Grafana's
// ClickHouse datasource does), a column's unit with the panel's overrides.

import { toMs } from "./time.js";

const NUMERIC = /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/;
const TIME = /^(Nullable\()?(DateTime|Date)/;

export function kind(column, rows, index) {
  const t = column.type || "";
  if (TIME.test(t)) return "time";
  if (NUMERIC.test(t)) return "number";
  if (t) return "text";
  const sample = rows.map((r) => r[index]).find((v) => v != null);
  return typeof sample === "number" ? "number" : "text";
}

export function num(v) {
  if (v == null || v === "") return null;
  const x = typeof v === "number" ? v : Number(v);
  return Number.isFinite(x) ? x : null;
}

// Grafana's matchers of fieldConfig.overrides: byName (the column's name) and byRegexp
// ("/re/flags", else the whole name, as Grafana's stringToJsRegex).
function matches(matcher, name) {
  if (!matcher) return false;
  if (matcher.id === "byName") return matcher.options === name;
  if (matcher.id !== "byRegexp" || typeof matcher.options !== "string") return false;
  const m = /^\/(.*)\/([gimsuy]*)$/.exec(matcher.options);
  try {
    return (m ? new RegExp(m[1], m[2].replace("g", "")) : new RegExp(`^${matcher.options}$`)).test(name);
  } catch {
    return false;
  }
}

// A column's field config: the panel's defaults, then each override matching it in order
// (unit, displayName, decimals, custom.width).
export function fieldOf(panel, name) {
  const fc = panel.fieldConfig || {};
  const d = fc.defaults || {};
  const out = { unit: d.unit || "short", displayName: null, decimals: d.decimals ?? null,
    width: (d.custom || {}).width ?? null };
  for (const o of fc.overrides || []) {
    if (!matches(o.matcher, name)) continue;
    for (const p of o.properties || []) {
      if (p.id === "unit") out.unit = p.value || "short";
      else if (p.id === "displayName") out.displayName = p.value || null;
      else if (p.id === "decimals") out.decimals = p.value ?? null;
      else if (p.id === "custom.width") out.width = p.value ?? null;
    }
  }
  out.label = out.displayName || name;
  return out;
}

export function unitOf(panel, name) {
  return fieldOf(panel, name).unit;
}

// Rows sorted by column `index` ("asc" or "desc"; anything else: as they came), numbers
// and times by value, text by locale; empty cells last either way.
export function sortRows(rows, index, k, dir) {
  if (dir !== "asc" && dir !== "desc") return rows;
  const key = (v) => (v == null || v === "" ? null : k === "number" ? num(v) : k === "time" ? toMs(v) : String(v));
  const sign = dir === "asc" ? 1 : -1;
  return rows.map((r, n) => [key(r[index]), n, r]).sort(([a, n], [b, m]) => {
    if (a == null || b == null) return a == null && b == null ? n - m : a == null ? 1 : -1;
    const c = typeof a === "string" ? a.localeCompare(b) : a - b;
    return c ? sign * c : n - m;
  }).map(([, , r]) => r);
}

export function isEmpty(result) {
  return !result || !result.rows || result.rows.length === 0;
}

// {times: [ms...], series: [{name, values: [...]}]} of a time-series answer.
export function timeSeries(result) {
  const cols = result.columns;
  const kinds = cols.map((c, i) => kind(c, result.rows, i));
  let ti = cols.findIndex((c) => c.name === "time");
  if (ti < 0) ti = kinds.indexOf("time");
  if (ti < 0) ti = 0;
  const labels = kinds.flatMap((k, i) => (i !== ti && k === "text" ? [i] : []));
  const values = kinds.flatMap((k, i) => (i !== ti && k === "number" ? [i] : []));
  const byName = new Map();
  const times = new Set();
  for (const row of result.rows) {
    const t = toMs(row[ti]);
    if (t == null) continue;
    times.add(t);
    const tag = labels.map((i) => String(row[i] ?? "")).join(" ");
    for (const vi of values) {
      const name = !labels.length ? cols[vi].name : values.length > 1 ? `${cols[vi].name} ${tag}` : tag;
      if (!byName.has(name)) byName.set(name, { name, column: cols[vi].name, points: new Map() });
      byName.get(name).points.set(t, num(row[vi]));
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  const series = [...byName.values()].map((s) => ({
    name: s.name,
    column: s.column,
    values: sorted.map((t) => (s.points.has(t) ? s.points.get(t) : null)),
  }));
  return { times: sorted, series };
}

// The panel's threshold steps [{color, value}], the first one's value -Infinity; a query
// B with a `target` column sets step 1 (Grafana's "Config from query results").
export function thresholds(panel, results) {
  const steps = (((panel.fieldConfig || {}).defaults || {}).thresholds || {}).steps || [];
  const out = steps.map((s) => ({ color: s.color, value: s.value == null ? -Infinity : Number(s.value) }));
  for (const t of panel.transformations || []) {
    if (t.id !== "configFromData") continue;
    const src = results[t.options.configRefId];
    for (const m of t.options.mappings || []) {
      if (m.handlerKey !== "threshold1" || isEmpty(src)) continue;
      const ci = src.columns.findIndex((c) => c.name === m.fieldName);
      const v = ci >= 0 ? num(src.rows[0][ci]) : null;
      if (v != null && out[1]) out[1].value = v;
    }
  }
  return out;
}

export function colorFor(steps, value) {
  let color = null;
  for (const s of steps) if (value != null && value >= s.value) color = s.color;
  return color;
}

const NAMED = {
  green: "#56a64b", red: "#e0434b", orange: "#f08c00", yellow: "#d8b600", blue: "#3274d9",
  purple: "#8f3bb8", "dark-orange": "#c4570c", "dark-red": "#ad0317", "dark-green": "#37872d",
  "semi-dark-red": "#c4162a", "light-red": "#ff7383", text: "inherit",
};
export function cssColor(name) {
  return NAMED[name] || name || "inherit";
}

export const PALETTE = ["#3274d9", "#56a64b", "#f08c00", "#e0434b", "#8f3bb8", "#1fa5a5", "#d8b600",
  "#c15c17", "#7a8b99", "#e05ca2", "#2f9e44", "#5c7cfa"];
