// Sign in with the IM account (the server's POST /api/login, through the console).

import { ApiError, basePath, post } from "./api.js";
import { fill, h } from "./dom.js";

// Only a path of this console is a place to go back to (no open redirect).
function nextPath() {
  const next = new URLSearchParams(location.search).get("next") || "";
  const base = basePath();
  return next.startsWith(base) && !next.startsWith("//") && !next.includes("\\") ? next : base;
}

export function loginView(main) {
  document.title = "Sign in · IM console";
  document.body.dataset.page = "login";
  const user = h("input", { id: "username", name: "username", autocomplete: "username", required: true, autofocus: true });
  const pass = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const button = h("button", { type: "submit", class: "btn primary" }, "Sign in");
  const form = h("form", { class: "card login", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Sign in"),
    h("p", { class: "sub" }, "With your IM account: managers, SREs and admins."),
    h("label", { for: "username" }, "User name"), user,
    h("label", { for: "password" }, "Password"), pass,
    error, button);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    error.hidden = true;
    try {
      await post("api/session", { username: user.value.trim(), password: pass.value });
      location.assign(nextPath());
    } catch (e) {
      error.textContent = e instanceof ApiError && e.status === 401 ? "Wrong user name or password." : e.message;
      error.hidden = false;
      button.disabled = false;
      pass.select();
    }
  });
  fill(main, form);
}
