// Live customer service (GET api/live/cs every 2 s): the queue and its oldest wait, the
// waiting customers, agents with their status and open sessions, customers waiting for an
// answer, today's reply rate so far.

import { ApiError, get, toLogin } from "./api.js";
import { ago, fill, h, table, utc } from "./dom.js";
import { formatValue } from "./units.js";

const EVERY_MS = 2000;

function tile(label, value, extra) {
  return h("div", { class: "tile" }, h("div", { class: "tile-label" }, label), h("div", { class: "tile-value" }, value), extra ? h("div", { class: "tile-extra" }, extra) : null);
}

function render(box, d) {
  const rate = d.reply_rate_today;
  const online = d.agents.filter((a) => a.status === "online").length;
  const away = d.agents.filter((a) => a.status === "away").length;
  fill(box, 
    h("div", { class: "tiles" },
      tile("In the queue", h("span", { id: "queue-length" }, String(d.queue.length))),
      tile("Oldest wait", h("span", { id: "oldest-wait" }, d.queue.length ? ago(d.queue.oldest_wait_s) : "–")),
      tile("Agents online / away", `${online} / ${away}`, `${d.agents.length - online - away} offline`),
      tile("Waiting for an answer", String(d.unanswered.length)),
      tile("Reply rate today", h("span", { id: "reply-rate" }, rate && rate.rate != null ? formatValue(rate.rate, "percentunit") : "–"),
        rate ? `${rate.answered_5m} of ${rate.waits} waits answered within 5 min` : "no result yet")),
    h("div", { class: "cols" },
      h("section", { "aria-labelledby": "waiting-title", class: "box", id: "queue" },
        h("h2", { id: "waiting-title" }, "Queue: customers waiting for an agent"),
        table([
          { label: "Session", cell: (r) => h("code", {}, r.session) },
          { label: "Customer", cell: (r) => r.customer },
          { label: "Waiting", cell: (r) => ago(r.waiting_s), num: true },
        ], d.queue.waiting, { empty: "Nobody is queued.", rowData: (r) => ({ session: r.session }) })),
      h("section", { "aria-labelledby": "unanswered-title", class: "box", id: "unanswered" },
        h("h2", { id: "unanswered-title" }, "Accepted, customer waiting for a reply"),
        table([
          { label: "Session", cell: (r) => h("code", {}, r.session) },
          { label: "Customer", cell: (r) => r.customer },
          { label: "Agent", cell: (r) => r.agent },
          { label: "Waiting", cell: (r) => ago(r.waiting_s), num: true },
        ], d.unanswered, { empty: "Every customer has an answer.", rowData: (r) => ({ session: r.session }) })),
      h("section", { "aria-labelledby": "agents-title", class: "box", id: "agents" },
        h("h2", { id: "agents-title" }, "Agents"),
        table([
          { label: "Agent", cell: (r) => r.username },
          { label: "Status", cell: (r) => h("span", { class: `pill ${r.status}` }, r.status) },
          { label: "Open sessions", cell: (r) => String(r.open_sessions), num: true },
        ], d.agents, { empty: "No agents.", rowData: (r) => ({ agent: r.username }) }))),
  );
}

export function liveView(main) {
  document.title = "Live customer service · IM console";
  const stamp = h("p", { class: "sub", "aria-live": "polite" }, "Loading…");
  const box = h("div", { id: "live" });
  fill(main, h("h1", {}, "Live customer service"), stamp, box);
  let failures = 0;
  const tick = async () => {
    try {
      const d = await get("api/live/cs");
      render(box, d);
      failures = 0;
      stamp.textContent = `As of ${utc(d.at_ms)} · refreshed every ${EVERY_MS / 1000} s`;
      document.body.dataset.liveAt = String(d.at_ms);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return toLogin();
      failures += 1;
      stamp.textContent = `Could not refresh (${e.message}); trying again.`;
    }
    setTimeout(tick, EVERY_MS);
  };
  tick();
}
