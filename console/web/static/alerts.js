// Alerts (GET api/alerts every 5 s): firing and pending by team with severity, since, value,
// summary, runbook and dashboard links; recently resolved as history; silences for SREs
// and admins.

import { ApiError, get, post, toLogin } from "./api.js";
import { ago, fill, h, table, utc } from "./dom.js";

const EVERY_MS = 5000;
const SILENCES = [["900", "15 min"], ["3600", "1 hour"], ["14400", "4 hours"], ["86400", "1 day"], ["604800", "7 days"]];

function safeHref(url) {
  return typeof url === "string" && /^https?:\/\//.test(url) ? url : null;
}

// The console's own view of a dashboard link (".../d/<uid>" of Grafana).
function dashboardHref(url) {
  const m = /\/d\/([\w-]+)/.exec(url || "");
  return m ? `d/${m[1]}` : null;
}

function links(a) {
  const notes = a.annotations || {};
  const runbook = safeHref(notes.runbook_url);
  const dash = dashboardHref(notes.dashboard);
  return h("span", { class: "links" },
    runbook ? h("a", { href: runbook, rel: "noopener noreferrer", target: "_blank" }, "runbook") : null,
    runbook && dash ? " · " : null,
    dash ? h("a", { href: dash }, "dashboard") : null);
}

function silencer(a, refresh) {
  const pick = h("select", { "aria-label": `Silence ${a.name} for` }, SILENCES.map(([v, t]) => h("option", { value: v }, t)));
  const button = h("button", { type: "button", class: "btn" }, "Silence");
  const note = h("span", { class: "note", role: "status" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const r = await post(`api/alerts/${encodeURIComponent(a.fingerprint)}/silence`, { for_s: Number(pick.value) });
      note.textContent = r.silenced_until ? `silenced until ${utc(r.silenced_until)}` : "silence lifted";
      refresh();
    } catch (e) {
      note.textContent = e.message;
    } finally {
      button.disabled = false;
    }
  });
  return h("span", { class: "silence" }, pick, button, note);
}

function value(v) {
  return v == null ? "–" : Number.isInteger(v) ? String(v) : Number(v).toPrecision(4);
}

function render(box, alerts, canSilence, refresh) {
  const active = alerts.filter((a) => a.state !== "resolved");
  const resolved = alerts.filter((a) => a.state === "resolved");
  const teams = [...new Set(active.map((a) => a.team))].sort();
  const now = Date.now();
  const cols = [
    { label: "Severity", cell: (a) => h("span", { class: `sev ${a.severity}` }, a.severity) },
    { label: "Alert", cell: (a) => h("span", {}, h("strong", {}, a.name), h("br"), h("span", { class: "summary" }, (a.annotations || {}).summary || "")) },
    { label: "State", cell: (a) => a.silenced_until && a.silenced_until > now
      ? h("span", { class: `pill ${a.state}`, title: `silenced until ${utc(a.silenced_until)}` }, `${a.state}, silenced`)
      : h("span", { class: `pill ${a.state}` }, a.state) },
    { label: "Since", cell: (a) => h("span", { title: utc(a.since) }, `${ago((now - a.since) / 1000)} ago`) },
    { label: "Value", cell: (a) => value(a.value), num: true },
    { label: "Links", cell: links },
  ];
  if (canSilence) cols.push({ label: "Silence", cell: (a) => silencer(a, refresh) });
  fill(box, 
    h("section", { "aria-labelledby": "active-title" },
      h("h2", { id: "active-title" }, `Active (${active.length})`),
      teams.length ? teams.map((t) => h("section", { class: "box", dataset: { team: t } },
        h("h3", {}, `Team ${t}`),
        table(cols, active.filter((a) => a.team === t), { rowData: (a) => ({ alert: a.name, state: a.state, fingerprint: a.fingerprint }) })))
        : h("p", { class: "empty", id: "no-alerts" }, "No active alerts.")),
    h("section", { "aria-labelledby": "history-title", class: "box" },
      h("h2", { id: "history-title" }, "Recently resolved"),
      table([
        { label: "Severity", cell: (a) => h("span", { class: `sev ${a.severity}` }, a.severity) },
        { label: "Alert", cell: (a) => a.name },
        { label: "Team", cell: (a) => a.team },
        { label: "Fired", cell: (a) => utc(a.fired_at || a.since) },
        { label: "Resolved", cell: (a) => utc(a.resolved_at) },
        { label: "Summary", cell: (a) => (a.annotations || {}).summary || "" },
      ], resolved, { empty: "Nothing resolved recently.", rowData: (a) => ({ alert: a.name, state: a.state }) })),
  );
}

export function alertsView(main, session) {
  document.title = "Alerts · IM console";
  const canSilence = ["sre", "admin"].includes(session.role);
  const stamp = h("p", { class: "sub", "aria-live": "polite" }, "Loading…");
  const box = h("div", { id: "alerts" });
  fill(main, h("h1", {}, "Alerts"), stamp, box);
  let timer = null;
  const tick = async () => {
    clearTimeout(timer);
    try {
      const d = await get("api/alerts");
      // Keep a silence duration being chosen: no redraw while one of those lists has focus.
      const choosing = document.activeElement && document.activeElement.tagName === "SELECT" && box.contains(document.activeElement);
      if (!choosing) render(box, d.alerts || [], canSilence, tick);
      stamp.textContent = `As of ${utc(Date.now())} · refreshed every ${EVERY_MS / 1000} s`;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return toLogin();
      stamp.textContent = `Could not refresh (${e.message}); trying again.`;
    }
    timer = setTimeout(tick, EVERY_MS);
  };
  tick();
}
