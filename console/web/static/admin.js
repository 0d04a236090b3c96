// Admins create users (agent, manager, sre, admin) through the IM node's admin route.

import { post } from "./api.js";
import { fill, h } from "./dom.js";

export function adminView(main) {
  document.title = "Admin · IM console";
  const user = h("input", { id: "new-username", name: "username", required: true, autocomplete: "off" });
  const pass = h("input", { id: "new-password", name: "password", type: "password", required: true, minlength: "8", autocomplete: "new-password" });
  const role = h("select", { id: "new-role", name: "role" }, ["agent", "manager", "sre", "admin"].map((r) => h("option", { value: r }, r)));
  const result = h("p", { role: "status", class: "note" });
  const button = h("button", { type: "submit", class: "btn primary" }, "Create user");
  const form = h("form", { class: "card form", "aria-labelledby": "admin-title" },
    h("h1", { id: "admin-title" }, "Create a user"),
    h("label", { for: "new-username" }, "User name"), user,
    h("label", { for: "new-password" }, "Password"), pass,
    h("label", { for: "new-role" }, "Role"), role,
    button, result);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    try {
      const r = await post("api/admin/users", { username: user.value.trim(), password: pass.value, role: role.value });
      result.className = "note ok";
      result.textContent = `Created ${r.username || user.value} (${r.role || role.value}).`;
      form.reset();
    } catch (e) {
      result.className = "note form-error";
      result.textContent = e.message;
    } finally {
      button.disabled = false;
    }
  });
  fill(main, form);
}
