// The console's one page: reads the session, draws the header and the view of the path.
// The server has checked the session and the role before sending this page (303 to
// /login, 403, 404); the page shows what those answers mean.

import { ApiError, del, get, route, toLogin } from "./api.js";
import { fill, h } from "./dom.js";

const main = document.getElementById("main");
const top = document.getElementById("top");

function navStatus() {
  const nav = performance.getEntriesByType("navigation")[0];
  return nav && nav.responseStatus ? nav.responseStatus : 200;
}

export function problem(title, text) {
  document.title = `${title} · IM console`;
  fill(main, h("div", { class: "problem", role: "alert" }, h("h1", {}, title), h("p", {}, text),
    h("p", {}, h("a", { href: "./" }, "Back to the start page"))));
  document.body.dataset.page = "problem";
}

function header(session) {
  const links = [["./", "Home"]];
  if (session.pages.includes("live")) links.push(["live", "Live service"]);
  if (session.pages.includes("alerts")) links.push(["alerts", "Alerts"]);
  if (session.pages.includes("admin")) links.push(["admin", "Admin"]);
  const here = route();
  const out = h("button", { type: "button", class: "btn link", id: "signout" }, "Sign out");
  out.addEventListener("click", async () => {
    try {
      await del("api/session");
    } finally {
      location.assign("login");
    }
  });
  fill(top, 
    h("a", { class: "brand", href: "./" }, "IM console"),
    h("nav", { "aria-label": "Main" }, h("ul", {}, links.map(([href, text]) => {
      const current = (href === "./" ? "" : href) === here;
      return h("li", {}, h("a", { href, "aria-current": current ? "page" : null }, text));
    }))),
    h("span", { class: "who" }, h("span", { class: "user" }, session.username), " ", h("span", { class: "role" }, session.role)),
    out);
}

async function view(session, path, board) {
  const [page, arg] = path.split("/", 2);
  if (page === "" ) return (await import("./home.js")).homeView(main, session);
  if (page === "d" && arg) return (await import("./dashboard.js")).dashboardView(main, decodeURIComponent(arg), board);
  if (page === "live") return (await import("./live.js")).liveView(main);
  if (page === "alerts") return (await import("./alerts.js")).alertsView(main, session);
  if (page === "admin") return (await import("./admin.js")).adminView(main);
  return problem("Not found", "There is no such page in the console.");
}

function allowed(session, path) {
  const [page, arg] = path.split("/", 2);
  if (page === "d") return session.dashboards.some((d) => d.uid === decodeURIComponent(arg || ""));
  if (["live", "alerts", "admin"].includes(page)) return session.pages.includes(page);
  return true;
}

async function start() {
  const path = route();
  if (path === "login") return (await import("./login.js")).loginView(main);
  let session;
  // A dashboard's JSON is asked for beside the session, not after it.
  const [page, arg] = path.split("/", 2);
  const board = page === "d" && arg ? get(`api/dashboards/${encodeURIComponent(decodeURIComponent(arg))}`) : null;
  if (board) board.catch(() => null); // its failure is the view's to show
  try {
    session = await get("api/session");
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return toLogin();
    return problem("The console is not answering", e.message);
  }
  header(session);
  const status = navStatus();
  if (status === 403 || !allowed(session, path)) {
    const what = path.startsWith("d/") ? "this dashboard" : "this page";
    return problem("You may not open this page", `Your role (${session.role}) may not see ${what}.`);
  }
  if (status === 404) return problem("Not found", "There is no such page or dashboard.");
  document.body.dataset.page = path.split("/")[0] || "home";
  try {
    await view(session, path, board);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return toLogin();
    if (e instanceof ApiError && e.status === 403) return problem("You may not open this page", e.message);
    if (e instanceof ApiError && e.status === 404) return problem("Not found", e.message);
    problem("Something went wrong", e.message);
  }
}

start();
