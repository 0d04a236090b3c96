// A dashboard from its Grafana JSON: 24-column gridPos layout, variables, time range and
// auto-refresh kept in the URL (?from=now-24h&to=now&var-agent=a&refresh=10s), each panel
// queried through the console (the browser sends no SQL) and drawn by panels.js.
// When every panel of a load has drawn (or failed, or has no data), the page sets
// document.body.dataset.rendered = "1" and the performance mark "console:rendered".

import { ApiError, get, panelQuery, toLogin } from "./api.js";
import { clear, fill, h } from "./dom.js";
import { draw, uplotReady } from "./panels.js";
import { RANGES, REFRESHES, durationMs, isoMinute, label, resolve } from "./time.js";
import { Variable } from "./variables.js";

// Grafana's gridPos boxes, kept inside the 24 columns; a box that overlaps one placed
// before it (in y, then x order) moves down below it, as Grafana's grid does.
export function layout(panels) {
  const placed = [];
  const out = new Map();
  const pos = (p) => p.gridPos || { x: 0, y: 0, w: 12, h: 8 };
  const sorted = [...panels].sort((a, b) => (pos(a).y || 0) - (pos(b).y || 0) || (pos(a).x || 0) - (pos(b).x || 0));
  for (const p of sorted) {
    const g = pos(p);
    const w = Math.max(1, Math.min(24, g.w || 12));
    const x = Math.max(0, Math.min(24 - w, g.x || 0));
    const hh = Math.max(1, g.h || 8);
    let y = Math.max(0, g.y || 0);
    const hit = () => placed.find((q) => x < q.x + q.w && q.x < x + w && y < q.y + q.h && q.y < y + hh);
    for (let q = hit(); q; q = hit()) y = q.y + q.h;
    const box = { x, y, w, h: hh };
    placed.push(box);
    out.set(p.id, box);
  }
  return out;
}

// Panels over raw events first (the slow ones should not wait behind the quick ones), one
// at a time beside the quick ones (api.js panelQuery).
function weight(panel) {
  const sql = (panel.targets || []).map((t) => t.rawSql || "").join(" ");
  return /\b(chat_events|session_events|ops_samples)\b/.test(sql) ? 1 : 0;
}

export async function dashboardView(main, uid, asked = null) {
  const dash = await (asked || get(`api/dashboards/${encodeURIComponent(uid)}`));
  document.title = `${dash.title} · IM console`;
  return new DashboardView(main, dash).start();
}

class DashboardView {
  constructor(main, dash) {
    const q = new URLSearchParams(location.search);
    const time = dash.time || { from: "now-6h", to: "now" };
    this.main = main;
    this.dash = dash;
    this.from = q.get("from") || time.from;
    this.to = q.get("to") || time.to;
    this.refresh = q.has("refresh") ? q.get("refresh") : dash.refresh || "";
    if (!durationMs(this.refresh)) this.refresh = "";
    this.vars = ((dash.templating || {}).list || [])
      .filter((v) => v.type !== "datasource")
      .map((v) => new Variable(v, q.getAll(`var-${v.name}`)));
    this.generation = 0;
    this.timer = null;
    this.panels = [];
  }

  start() {
    const bar = h("div", { class: "toolbar", role: "toolbar", "aria-label": "Dashboard controls" });
    this.varBar = h("div", { class: "vars" });
    this.rangeBox = h("div", { class: "range" });
    bar.append(this.varBar, this.rangeBox);
    const grid = h("div", { class: "dash-grid" });
    const boxes = layout(this.dash.panels || []);
    for (const p of this.dash.panels || []) this.panels.push(this.frame(p, boxes.get(p.id), grid));
    fill(this.main, 
      h("div", { class: "dash-head" },
        h("h1", {}, this.dash.title),
        this.dash.description ? h("p", { class: "sub" }, this.dash.description) : null),
      bar, grid);
    this.drawRange();
    this.reload();
    this.schedule();
    return this;
  }

  frame(panel, g, grid) {
    const body = h("div", { class: "panel-body" });
    const badge = h("span", { class: "badge badge-error", role: "status", hidden: true });
    const titleId = `panel-${panel.id}-title`;
    const head = h("header", { class: "panel-head" },
      h("h2", { id: titleId, title: panel.description || null }, panel.title || ""),
      panel.description ? h("span", { class: "info", tabindex: "0", title: panel.description, "aria-label": `About: ${panel.description}` }, "i") : null,
      badge);
    const el = h("section", { class: `panel panel-${panel.type}`, "aria-labelledby": titleId,
      dataset: { panelId: String(panel.id), type: panel.type, state: "loading" } }, head, body);
    el.style.setProperty("--x", String(g.x + 1));
    el.style.setProperty("--w", String(g.w));
    el.style.setProperty("--y", String(g.y + 1));
    el.style.setProperty("--h", String(g.h));
    grid.append(el);
    return { panel, el, body, badge, dispose: null };
  }

  range() {
    const now = Date.now();
    return { from: resolve(this.from, now), to: resolve(this.to, now) };
  }

  wireVars() {
    return Object.fromEntries(this.vars.map((v) => [v.name, v.wire()]));
  }

  keepInUrl() {
    const q = new URLSearchParams();
    q.set("from", this.from);
    q.set("to", this.to);
    for (const v of this.vars) for (const value of v.values) q.append(`var-${v.name}`, value);
    if (this.refresh) q.set("refresh", this.refresh);
    history.replaceState(null, "", `${location.pathname}?${q}`);
  }

  async query(panelId, refId, range, width, heavy = false) {
    const interval = Math.max(1000, Math.round((range.to - range.from) / Math.max(1, width)));
    return panelQuery(`api/dashboards/${encodeURIComponent(this.dash.uid)}/panels/${panelId}/query`, {
      from_ms: range.from, to_ms: range.to, interval_ms: interval, variables: this.wireVars(), ref_id: refId,
    }, heavy);
  }

  async loadVariables(range) {
    for (const v of this.vars.filter((x) => x.type === "query")) {
      try {
        const res = await this.query(0, v.name, range, 1000);
        v.setOptions(res.rows.map((r) => r[0]).filter((x) => x != null));
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return toLogin();
        v.setOptions([]);
        v.error = e.message;
      }
    }
    fill(this.varBar, this.vars.filter((v) => !v.hidden).map((v) => v.control(() => this.reload(false))));
  }

  async reload(withVariables = true) {
    const gen = ++this.generation;
    delete document.body.dataset.rendered;
    this.keepInUrl();
    const range = this.range();
    if (range.from == null || range.to == null || range.from >= range.to) {
      this.rangeError(`The time range ${this.from} to ${this.to} is not valid.`);
      return;
    }
    // Panels start at once with the variables' current values while the query variables'
    // options load; should those options drop a value, the panels load again.
    let options = Promise.resolve(false);
    if (withVariables) {
      const before = JSON.stringify(this.wireVars());
      options = this.loadVariables(range).then(() => JSON.stringify(this.wireVars()) !== before);
      if (this.vars.some((v) => v.type === "query" && !v.values.length)) await options;
    }
    const order = [...this.panels].sort((a, b) => weight(b.panel) - weight(a.panel));
    const [changed] = await Promise.all([options, ...order.map((p) => this.loadPanel(p, range, gen))]);
    if (gen !== this.generation) return;
    if (changed) return this.reload(false);
    document.body.dataset.rendered = "1";
    document.body.dataset.generation = String(gen);
    if (!performance.getEntriesByName("console:rendered").length) performance.mark("console:rendered");
  }

  async loadPanel(p, range, gen) {
    p.el.dataset.state = "loading";
    p.el.setAttribute("aria-busy", "true");
    const targets = p.panel.targets || [];
    const results = {};
    let failure = null;
    await Promise.all(targets.map(async (t) => {
      try {
        results[t.refId] = await this.query(p.panel.id, t.refId, range, p.body.clientWidth || 600, weight(p.panel) > 0);
      } catch (e) {
        failure = failure || e;
      }
    }));
    if (p.panel.type === "timeseries" && !failure) {
      try {
        await uplotReady();
      } catch (e) {
        failure = e;
      }
    }
    if (gen !== this.generation) return;
    p.el.removeAttribute("aria-busy");
    if (p.dispose) p.dispose();
    p.dispose = null;
    clear(p.body);
    if (failure) {
      if (failure instanceof ApiError && failure.status === 401) return toLogin();
      p.badge.hidden = false;
      p.badge.textContent = "error";
      p.badge.title = failure.message;
      p.body.append(h("p", { class: "panel-error" }, failure.message));
      p.el.dataset.state = "error";
      return;
    }
    p.badge.hidden = true;
    try {
      const out = draw(p.panel, results, p.body);
      p.dispose = typeof out.dispose === "function" ? out.dispose : null;
      p.el.dataset.state = out.state;
    } catch (e) {
      p.badge.hidden = false;
      p.badge.textContent = "error";
      p.badge.title = `Could not draw: ${e.message}`;
      p.el.dataset.state = "error";
    }
  }

  rangeError(message) {
    for (const p of this.panels) {
      p.el.dataset.state = "error";
      p.badge.hidden = false;
      p.badge.textContent = "error";
      p.badge.title = message;
    }
    document.body.dataset.rendered = "1";
  }

  schedule() {
    clearInterval(this.timer);
    const every = durationMs(this.refresh);
    if (every) this.timer = setInterval(() => this.reload(false), every);
  }

  drawRange() {
    const relative = RANGES.some(([f]) => f === this.from) && this.to === "now";
    const pick = h("select", { id: "range", "aria-label": "Time range" },
      RANGES.map(([f, text]) => h("option", { value: f }, text)),
      h("option", { value: "absolute" }, "Absolute range…"));
    pick.value = relative ? this.from : "absolute";
    const r = this.range();
    const fromIn = h("input", { type: "datetime-local", id: "abs-from", "aria-label": "From (UTC)", value: isoMinute(r.from) });
    const toIn = h("input", { type: "datetime-local", id: "abs-to", "aria-label": "To (UTC)", value: isoMinute(r.to) });
    const apply = h("button", { type: "button", class: "btn" }, "Apply");
    const abs = h("span", { class: "abs", hidden: relative ? true : null }, fromIn, " to ", toIn, " UTC ", apply);
    pick.addEventListener("change", () => {
      if (pick.value === "absolute") {
        abs.hidden = false;
        return;
      }
      this.from = pick.value;
      this.to = "now";
      this.drawRange();
      this.reload();
    });
    apply.addEventListener("click", () => {
      const f = resolve(fromIn.value);
      const t = resolve(toIn.value);
      if (f == null || t == null || f >= t) {
        apply.setCustomValidity("From must be before to");
        apply.reportValidity();
        return;
      }
      this.from = String(f);
      this.to = String(t);
      this.drawRange();
      this.reload();
    });
    const every = h("select", { id: "refresh", "aria-label": "Auto-refresh" },
      REFRESHES.map(([v, text]) => h("option", { value: v }, `Refresh: ${text}`)));
    every.value = this.refresh;
    every.addEventListener("change", () => {
      this.refresh = every.value;
      this.keepInUrl();
      this.schedule();
    });
    const now = h("button", { type: "button", class: "btn", title: "Run every panel's query again" }, "Refresh now");
    now.addEventListener("click", () => this.reload(false));
    fill(this.rangeBox, 
      h("span", { class: "range-label", title: label(this.from, this.to) }, label(this.from, this.to)),
      pick, abs, every, now);
  }
}
