// One renderer per Grafana panel type: timeseries (uPlot), stat, table, barchart,
// heatmap and text. Each draws into `body` from the panel's query answers by refId.
// uPlot is its minified build (vendor/uplot/uPlot.iife.min.js, 51 kB where the ES module
// build is 145 kB), loaded `async` by index.html so the page starts without waiting for it:
// window.uPlot, once `uplotReady()` has resolved.

export function uplotReady() {
  if (window.uPlot) return Promise.resolve();
  const script = document.getElementById("uplot-js");
  return new Promise((resolve, reject) => {
    script.addEventListener("load", resolve, { once: true });
    script.addEventListener("error", () => reject(new Error("the charting library did not load")), { once: true });
  });
}

import { TIME_INCRS, isStacked, stack, timeLabels } from "./chart.js";
import { append, h, utc } from "./dom.js";
import { PALETTE, colorFor, cssColor, fieldOf, isEmpty, kind, num, thresholds, timeSeries, unitOf } from "./frames.js";
import { markdown } from "./markdown.js";
import { cell, table } from "./tables.js";
import { formatValue } from "./units.js";

const defaults = (panel) => (panel.fieldConfig || {}).defaults || {};

function stat(panel, results, body) {
  const res = results.A;
  const steps = thresholds(panel, results);
  const fields = res.columns.map((c, i) => ({ c, i, k: kind(c, res.rows, i) })).filter((f) => f.k !== "time");
  const box = h("div", { class: `stat n${Math.min(fields.length, 4)}` });
  for (const f of fields) {
    let last = null;
    for (const row of res.rows) if (row[f.i] != null) last = row[f.i];
    const value = f.k === "number" ? num(last) : last;
    const color = f.k === "number" ? colorFor(steps, value) : null;
    const field = fieldOf(panel, f.c.name);
    const big = h("div", { class: "stat-value", dataset: { value: value == null ? "" : String(value), field: f.c.name } },
      f.k === "number" ? formatValue(value, field.unit, field.decimals) : value == null ? "–" : String(value));
    if (color) big.style.color = cssColor(color);
    box.append(h("div", { class: "stat-field" }, fields.length > 1 ? h("div", { class: "stat-name" }, field.label) : null, big));
  }
  body.append(box);
}

function bars(panel, results, body) {
  const res = results.A;
  const kinds = res.columns.map((c, i) => kind(c, res.rows, i));
  const xName = (panel.options || {}).xField;
  let xi = res.columns.findIndex((c) => c.name === xName);
  if (xi < 0) xi = kinds.findIndex((k) => k !== "number");
  const vals = kinds.flatMap((k, i) => (k === "number" && i !== xi ? [i] : []));
  let max = 0;
  for (const row of res.rows) for (const i of vals) max = Math.max(max, num(row[i]) || 0);
  const list = h("div", { class: "bars", role: "list" });
  for (const row of res.rows) {
    const label = xi >= 0 ? cell(row[xi], kinds[xi], { unit: "none" }) : "";
    for (const [n, i] of vals.entries()) {
      const v = num(row[i]);
      const bar = h("span", { class: "bar" });
      bar.style.width = `${max > 0 ? Math.max(0.5, (100 * (v || 0)) / max) : 0}%`;
      bar.style.background = PALETTE[n % PALETTE.length];
      list.append(h("div", { class: "bar-row", role: "listitem", title: `${label}: ${formatValue(v, unitOf(panel, res.columns[i].name))}` },
        h("span", { class: "bar-label" }, vals.length > 1 ? `${label} · ${res.columns[i].name}` : label),
        h("span", { class: "bar-track" }, bar),
        h("span", { class: "bar-value num" }, formatValue(v, unitOf(panel, res.columns[i].name)))));
    }
  }
  body.append(list);
}

function heatmap(panel, results, body) {
  const res = results.A;
  const kinds = res.columns.map((c, i) => kind(c, res.rows, i));
  const yi = kinds.findIndex((k) => k !== "number");
  const cols = kinds.flatMap((k, i) => (k === "number" ? [i] : []));
  const color = (panel.options || {}).color || {};
  const exponent = Number(color.exponent) || 0.5;
  let max = 0;
  for (const row of res.rows) for (const i of cols) max = Math.max(max, num(row[i]) || 0);
  const unit = defaults(panel).unit;
  const grid = h("div", { class: "heatmap", role: "table", "aria-label": panel.title });
  grid.style.gridTemplateColumns = `minmax(5em, auto) repeat(${cols.length}, minmax(0, 1fr))`;
  append(grid, [h("span", { role: "columnheader" }), ...cols.map((i) => h("span", { class: "hm-x", role: "columnheader" }, res.columns[i].name))]);
  for (const row of res.rows) {
    const y = yi >= 0 ? String(row[yi]) : "";
    grid.append(h("span", { class: "hm-y", role: "rowheader" }, y));
    for (const i of cols) {
      const v = num(row[i]) || 0;
      const t = max > 0 ? Math.pow(v / max, exponent) : 0;
      const c = h("span", { class: "hm-cell", role: "cell", title: `${y} ${res.columns[i].name}: ${formatValue(v, unit)}` },
        v ? formatValue(v, unit) : "");
      c.style.background = `hsl(28 95% ${Math.round(96 - 58 * t)}%)`;
      c.style.color = t > 0.55 ? "#fff" : "#222";
      grid.append(c);
    }
  }
  body.append(grid);
}

function thresholdLines(panel, results) {
  const mode = ((defaults(panel).custom || {}).thresholdsStyle || {}).mode;
  if (!mode || mode === "off") return [];
  return thresholds(panel, results).filter((s) => Number.isFinite(s.value));
}

const LEGEND_PX = 24;

function timeseries(panel, results, body) {
  const uPlot = window.uPlot;
  const { times, series } = timeSeries(results.A);
  const unit = defaults(panel).unit;
  const custom = defaults(panel).custom || {};
  const asBars = custom.drawStyle === "bars";
  const lines = thresholdLines(panel, results);
  const chart = h("div", { class: "chart" });
  body.append(chart);
  // Stacked: uPlot draws the running sums, bands fill between neighbours, and the legend
  // shows each series' own value.
  const stacked = isStacked(panel) ? stack(series.map((s) => s.values)) : null;
  const drawn = stacked ? stacked.data : series.map((s) => s.values);
  const seriesOpts = series.map((s, n) => {
    const c = PALETTE[n % PALETTE.length];
    const field = fieldOf(panel, s.name === s.column ? s.name : s.column);
    return {
      label: s.name === s.column ? field.label : s.name,
      stroke: c,
      width: asBars ? 0 : 1.5,
      fill: asBars ? c + "cc" : stacked ? (n === 0 ? c + "40" : undefined) : c + "14",
      paths: asBars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined,
      points: { show: times.length < 3 },
      value: (_u, _v, _si, idx) => formatValue(idx == null ? null : s.values[idx], field.unit, field.decimals),
    };
  });
  const ys = drawn.flat().filter((v) => v != null);
  const lo = Math.min(0, ...ys, ...lines.map((l) => l.value));
  const hi = Math.max(...ys, ...lines.map((l) => l.value));
  const opts = {
    width: Math.max(120, body.clientWidth),
    height: Math.max(60, body.clientHeight - LEGEND_PX),
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
    bands: stacked ? stacked.bands.map((b) => ({ ...b, fill: PALETTE[(b.series[0] - 1) % PALETTE.length] + "40" })) : [],
    scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(lo, min), hi > lo ? Math.max(hi, max) * 1.05 : max + 1] } },
    axes: [
      { stroke: "#5b6470", grid: { stroke: "#e3e6ea", width: 1 }, ticks: { stroke: "#d0d4d9" },
        space: 64, incrs: TIME_INCRS, values: (_u, splits, _ax, _space, incr) => timeLabels(splits, incr) },
      { stroke: "#5b6470", grid: { stroke: "#e3e6ea", width: 1 }, ticks: { stroke: "#d0d4d9" },
        values: (_u, vals) => vals.map((v) => formatValue(v, unit)), size: 72 },
    ],
    series: [{ value: (_u, v) => (v == null ? "" : utc(v * 1000)) }, ...seriesOpts],
    legend: { show: true, live: true },
    cursor: { drag: { x: true, y: false } },
    hooks: {
      draw: [
        (u) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.setLineDash([6, 4]);
          ctx.lineWidth = 1.5 * devicePixelRatio;
          for (const l of lines) {
            const y = u.valToPos(l.value, "y", true);
            if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue;
            ctx.strokeStyle = cssColor(l.color);
            ctx.beginPath();
            ctx.moveTo(u.bbox.left, y);
            ctx.lineTo(u.bbox.left + u.bbox.width, y);
            ctx.stroke();
          }
          ctx.restore();
        },
      ],
    },
  };
  const data = [times.map((t) => t / 1000), ...drawn];
  const plot = new uPlot(opts, data, chart);
  // The legend is one line (console.css: .u-legend), so the plot is the body less LEGEND_PX;
  // resizes are applied once per frame, from the body's size then.
  let frame = 0;
  const fit = () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      const width = Math.max(120, body.clientWidth);
      const height = Math.max(60, body.clientHeight - LEGEND_PX);
      if (width !== plot.width || height !== plot.height) plot.setSize({ width, height });
    });
  };
  plot.setSize({ width: Math.max(120, body.clientWidth), height: Math.max(60, body.clientHeight - LEGEND_PX) });
  const ro = new ResizeObserver(fit);
  ro.observe(body);
  return () => {
    cancelAnimationFrame(frame);
    ro.disconnect();
    plot.destroy();
  };
}

function text(panel, _results, body) {
  body.append(markdown((panel.options || {}).content || ""));
}

export const RENDERERS = { timeseries, stat, table, barchart: bars, heatmap, text };

// Draws the panel; returns a clean-up function (or nothing). "no data" when A is empty.
export function draw(panel, results, body) {
  const render = RENDERERS[panel.type];
  if (!render) {
    body.append(h("p", { class: "empty" }, `Panel type ${panel.type} is not supported here.`));
    return { state: "unsupported" };
  }
  if (panel.type !== "text" && isEmpty(results.A)) {
    body.append(h("p", { class: "nodata" }, "No data"));
    return { state: "nodata" };
  }
  return { state: "ok", dispose: render(panel, results, body) };
}
