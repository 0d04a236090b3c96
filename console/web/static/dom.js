// Building the page: elements are made with textContent only, never innerHTML of data.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = String(v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// A table of rows: columns [{label, cell(row) -> Node|string, num?}], empty text when none.
export function table(columns, rows, { empty = "None", rowData } = {}) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "table",
    { class: "grid" },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label)))),
    h(
      "tbody",
      {},
      rows.map((r) =>
        h("tr", { dataset: rowData ? rowData(r) : {} }, columns.map((c) => h("td", { class: c.num ? "num" : null }, c.cell(r)))),
      ),
    ),
  );
}

// "3 m 20 s"-style duration of seconds, for waits and ages.
export function ago(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} m`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

// A UTC time of epoch milliseconds, "2026-12-01 21:45:03 UTC".
export function utc(ms) {
  if (ms == null) return "";
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

// Replace the children of `el` (arrays flattened, null/false skipped).
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}
