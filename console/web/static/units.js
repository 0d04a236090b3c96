// Grafana's units (fieldConfig.defaults.unit), the ones the dashboards use and a few more.

function trim(x, decimals) {
  if (!Number.isFinite(x)) return String(x);
  let d = decimals;
  if (d == null) {
    const a = Math.abs(x);
    d = a === 0 || a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  }
  let s = x.toFixed(d);
  if (decimals == null && s.includes(".")) s = s.replace(/\.?0+$/, "");
  return s === "-0" ? "0" : s;
}

function scaled(x, base, suffixes, decimals) {
  let i = 0;
  let v = x;
  while (Math.abs(v) >= base && i < suffixes.length - 1) {
    v /= base;
    i += 1;
  }
  return `${trim(v, decimals)}${suffixes[i]}`;
}

function duration(seconds, decimals) {
  const a = Math.abs(seconds);
  if (a === 0) return "0 s";
  if (a < 1e-3) return `${trim(seconds * 1e6, decimals)} µs`;
  if (a < 1) return `${trim(seconds * 1e3, decimals)} ms`;
  if (a < 60) return `${trim(seconds, decimals)} s`;
  if (a < 3600) return `${trim(seconds / 60, decimals)} min`;
  if (a < 86400) return `${trim(seconds / 3600, decimals)} hour`;
  return `${trim(seconds / 86400, decimals)} day`;
}

const SHORT = ["", " K", " Mil", " Bil", " Tri"];
const RATES = { reqps: " req/s", ops: " ops/s", cps: " c/s", rps: " rd/s", wps: " wr/s", iops: " io/s" };

export function formatValue(value, unit, decimals) {
  if (value == null || value === "") return "–";
  const x = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(x)) return String(value);
  switch (unit || "short") {
    case "percentunit":
      return `${trim(x * 100, decimals)}%`;
    case "percent":
      return `${trim(x, decimals)}%`;
    case "s":
      return duration(x, decimals);
    case "ms":
      return duration(x / 1000, decimals);
    case "µs":
    case "us":
      return duration(x / 1e6, decimals);
    case "bytes":
    case "decbytes":
      return unit === "bytes"
        ? scaled(x, 1024, [" B", " KiB", " MiB", " GiB", " TiB", " PiB"], decimals)
        : scaled(x, 1000, [" B", " kB", " MB", " GB", " TB", " PB"], decimals);
    case "none":
      return trim(x, decimals);
    case "short":
      return scaled(x, 1000, SHORT, decimals);
    default:
      if (RATES[unit]) return scaled(x, 1000, SHORT, decimals) + RATES[unit];
      return `${trim(x, decimals)} ${unit}`;
  }
}
