// What the role may open: its dashboards and pages.

import { fill, h } from "./dom.js";

const PAGES = {
  live: ["Live customer service", "Queue, waiting customers, agents and today's reply rate, every 2 s."],
  alerts: ["Alerts", "Active alerts by team, with runbooks and silences; recently resolved."],
  admin: ["Admin", "Create users: agents, managers, SREs and admins."],
};

export function homeView(main, session) {
  document.title = "IM console";
  const pages = session.pages.filter((p) => PAGES[p]);
  fill(main, 
    h("h1", {}, `Hello, ${session.username}`),
    h("p", { class: "sub" }, `Signed in as ${session.role}.`),
    h("section", { "aria-labelledby": "dash-title" },
      h("h2", { id: "dash-title" }, "Dashboards"),
      session.dashboards.length
        ? h("ul", { class: "cards" }, session.dashboards.map((d) => h("li", { class: "card" },
            h("a", { href: `d/${encodeURIComponent(d.uid)}`, dataset: { uid: d.uid } }, d.title),
            h("p", { class: "tags" }, (d.tags || []).filter((t) => t !== "im").join(" · ")))))
        : h("p", { class: "empty" }, "Your role has no dashboards.")),
    pages.length
      ? h("section", { "aria-labelledby": "pages-title" },
          h("h2", { id: "pages-title" }, "Pages"),
          h("ul", { class: "cards" }, pages.map((p) => h("li", { class: "card" },
            h("a", { href: p }, PAGES[p][0]), h("p", {}, PAGES[p][1])))))
      : null,
  );
}
