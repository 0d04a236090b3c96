// Text panels' markdown, rendered as DOM nodes (never innerHTML): headings, paragraphs,
// lists, tables, **bold**, *italic*, `code` and links to http(s) or relative addresses.

import { h } from "./dom.js";

const INLINE = /(\*\*[^*]+\*\*|`[^`]+`|\[[^\]]+\]\([^)\s]+\)|\*[^*\s][^*]*\*)/;

export function inline(text) {
  const out = [];
  for (const part of text.split(INLINE)) {
    if (!part) continue;
    if (part.startsWith("**") && part.endsWith("**") && part.length > 4) out.push(h("strong", {}, part.slice(2, -2)));
    else if (part.startsWith("`") && part.endsWith("`") && part.length > 2) out.push(h("code", {}, part.slice(1, -1)));
    else if (part.startsWith("[")) {
      const m = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(part);
      const safe = m && /^(https?:\/\/|\/|\.\/|[\w-]+\/)/.test(m[2]) && !/^javascript:/i.test(m[2]);
      out.push(safe ? h("a", { href: m[2], rel: "noopener noreferrer" }, m[1]) : part);
    } else if (part.startsWith("*") && part.endsWith("*") && part.length > 2) out.push(h("em", {}, part.slice(1, -1)));
    else out.push(part);
  }
  return out;
}

function cells(line) {
  const body = line.trim().replace(/^\|/, "").replace(/\|$/, "");
  return body.split(/(?<!\\)\|/).map((c) => c.trim().replaceAll("\\|", "|"));
}

export function markdown(source) {
  const root = h("div", { class: "md" });
  const lines = String(source || "").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i += 1;
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      root.append(h(`h${Math.min(6, heading[1].length + 2)}`, {}, inline(heading[2])));
      i += 1;
    } else if (line.trim().startsWith("|") && /^\s*\|?[\s:|-]+\|?\s*$/.test(lines[i + 1] || "")) {
      const head = cells(line);
      i += 2;
      const rows = [];
      while (i < lines.length && lines[i].trim().startsWith("|")) rows.push(cells(lines[i++]));
      root.append(
        h("table", { class: "grid" },
          h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, inline(c))))),
          h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, inline(c))))))),
      );
    } else if (/^\s*[-*]\s+/.test(line)) {
      const items = [];
      while (i < lines.length && /^\s*[-*]\s+/.test(lines[i])) items.push(lines[i++].replace(/^\s*[-*]\s+/, ""));
      root.append(h("ul", {}, items.map((t) => h("li", {}, inline(t)))));
    } else {
      const para = [];
      while (i < lines.length && lines[i].trim() && !/^(#|\s*[-*]\s|\s*\|)/.test(lines[i])) para.push(lines[i++]);
      if (!para.length) para.push(lines[i++]);
      root.append(h("p", {}, inline(para.join(" "))));
    }
  }
  return root;
}
