// The dashboard's variables (templating.list): query (options from panel 0, ref_id = the
// variable's name), custom, textbox and constant; multi-value with All. The datasource
// variable is Grafana's own and has nothing to choose here.

import { h } from "./dom.js";

export const ALL = "$__all";

function asList(v) {
  if (v == null) return [];
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

// "70 % : 0.7, 75 % : 0.75" -> [{text, value}]
export function customOptions(query) {
  return String(query || "")
    .split(/,(?![^{]*})/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^(.*?)\s+:\s+(.*)$/.exec(s);
      return m ? { text: m[1].trim(), value: m[2].trim() } : { text: s, value: s };
    });
}

export class Variable {
  constructor(model, fromUrl) {
    this.model = model;
    this.name = model.name;
    this.type = model.type;
    this.multi = Boolean(model.multi);
    this.includeAll = Boolean(model.includeAll);
    this.options = this.type === "custom" ? customOptions(model.query) : [];
    const current = (model.current || {}).value ?? model.query;
    this.values = fromUrl.length ? fromUrl : asList(this.type === "constant" ? model.query : current);
  }

  get hidden() {
    return this.type === "constant" || this.model.hide === 2;
  }

  // The value the API takes: "$__all", a list (multi) or one string.
  wire() {
    if (this.values.includes(ALL)) return ALL;
    if (this.multi) return [...this.values];
    return this.values[0] ?? "";
  }

  setOptions(values) {
    this.options = values.map((v) => ({ text: String(v), value: String(v) }));
    const known = new Set(this.options.map((o) => o.value));
    const kept = this.values.filter((v) => v === ALL || known.has(v));
    if (!kept.length) kept.push(this.includeAll ? ALL : this.options[0] ? this.options[0].value : "");
    this.values = kept;
  }

  label() {
    if (this.values.includes(ALL)) return "All";
    const text = this.values.map((v) => (this.options.find((o) => o.value === v) || { text: v }).text);
    return text.join(" + ") || "None";
  }

  // The control; `changed()` after the user picks.
  control(changed) {
    const id = `var-${this.name}`;
    const lab = h("label", { for: id }, this.model.label || this.name);
    if (this.type === "textbox") {
      const input = h("input", { id, type: "text", value: this.values[0] ?? "", size: 12 });
      input.addEventListener("change", () => {
        this.values = [input.value];
        changed();
      });
      return h("div", { class: "var" }, lab, input);
    }
    if (!this.multi) {
      const select = h("select", { id, name: this.name },
        this.includeAll ? h("option", { value: ALL }, "All") : null,
        this.options.map((o) => h("option", { value: o.value }, o.text)));
      select.value = this.values[0] ?? "";
      select.addEventListener("change", () => {
        this.values = [select.value];
        changed();
      });
      return h("div", { class: "var" }, lab, select);
    }
    return this.multiControl(id, changed);
  }

  multiControl(id, changed) {
    const summary = h("summary", { id, "aria-label": `${this.name}: ${this.label()}` }, this.label());
    const boxes = [];
    const pick = () => {
      const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
      this.values = chosen.length ? chosen : [this.includeAll ? ALL : (this.options[0] || {}).value];
      summary.textContent = this.label();
      sync();
      changed();
    };
    const box = (value, text) => {
      const input = h("input", { type: "checkbox", value, name: this.name });
      input.addEventListener("change", () => {
        if (value === ALL && input.checked) for (const b of boxes) if (b.value !== ALL) b.checked = false;
        if (value !== ALL && input.checked) for (const b of boxes) if (b.value === ALL) b.checked = false;
        pick();
      });
      boxes.push(input);
      return h("label", { class: "opt" }, input, " ", text);
    };
    const sync = () => {
      for (const b of boxes) b.checked = this.values.includes(b.value);
    };
    const list = h("div", { class: "opts", role: "group", "aria-label": this.name },
      this.includeAll ? box(ALL, "All") : null,
      this.options.map((o) => box(o.value, o.text)));
    sync();
    return h("div", { class: "var" }, h("span", { class: "var-name" }, this.name), h("details", { class: "multi" }, summary, list));
  }
}
