// Table panels: one column per answer column, each with its own field config (frames.js
// fieldOf: unit, displayName, decimals, custom.width of fieldConfig.overrides), sorted by
// clicking a column's header as in Grafana: ascending, descending, then as the query
// ordered them. The order is the panel's, kept across refreshes.

import { h, utc } from "./dom.js";
import { fieldOf, kind, num, sortRows } from "./frames.js";
import { toMs } from "./time.js";
import { formatValue } from "./units.js";

export function cell(value, k, field) {
  if (value == null) return "";
  if (k === "time") return utc(toMs(value));
  if (k === "number") return formatValue(num(value), field.unit, field.decimals);
  return String(value);
}

const SORTS = new WeakMap(); // panel -> {name, dir}
const NEXT = { asc: "desc", desc: null };

export function table(panel, results, body) {
  const res = results.A;
  const kinds = res.columns.map((c, i) => kind(c, res.rows, i));
  const fields = res.columns.map((c) => fieldOf(panel, c.name));
  const wrap = h("div", { class: "table-wrap" });
  const render = () => {
    const sort = SORTS.get(panel) || {};
    const si = res.columns.findIndex((c) => c.name === sort.name);
    const rows = si >= 0 ? sortRows(res.rows, si, kinds[si], sort.dir) : res.rows;
    const head = res.columns.map((c, i) => {
      const dir = i === si ? sort.dir : null;
      const th = h("th", { scope: "col", class: kinds[i] === "number" ? "num" : null, dataset: { field: c.name },
        "aria-sort": dir === "asc" ? "ascending" : dir === "desc" ? "descending" : null },
      h("button", { type: "button", class: "sort", title: `Sort by ${fields[i].label}`, onclick: () => {
        SORTS.set(panel, { name: c.name, dir: dir ? NEXT[dir] : "asc" });
        render();
      } }, fields[i].label));
      if (fields[i].width) th.style.width = `${Number(fields[i].width)}px`;
      return th;
    });
    wrap.replaceChildren(h("table", { class: "grid" },
      h("thead", {}, h("tr", {}, head)),
      h("tbody", {}, rows.map((row) => h("tr", {}, row.map((v, i) =>
        h("td", { class: kinds[i] === "number" ? "num" : null, dataset: { raw: v == null ? "" : String(v) } },
          cell(v, kinds[i], fields[i]))))))));
  };
  render();
  body.append(wrap);
}
