// The time series' pure parts, run by Node in tests/console/web/test_chart.py: the time
// axis (tick steps of whole seconds and up, labels in UTC by the step) and stacking
// (fieldConfig.defaults.custom.stacking.mode "normal").

const MIN = 60;
const HOUR = 3600;
const DAY = 86400;

// The time axis' tick steps in seconds (uPlot `incrs`): never below a second, so a short
// range shows whole seconds and never ":41.500".
export const TIME_INCRS = [1, 2, 5, 10, 15, 30, MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY,
  91 * DAY, 182 * DAY, 365 * DAY];

const pad = (n) => String(n).padStart(2, "0");

// One label per tick (seconds since the epoch) for a step of `incr` seconds, in UTC:
// "MM-DD" for day steps, "HH:MM" for minute and hour steps ("MM-DD" at midnight, where a
// day starts), "HH:MM:SS" for steps under a minute.
export function timeLabels(splits, incr) {
  return splits.map((s) => {
    const d = new Date(Math.round(s * 1000));
    const date = `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    if (incr >= DAY) return date;
    if (incr >= MIN) return hm === "00:00" ? date : hm;
    return `${hm}:${pad(d.getUTCSeconds())}`;
  });
}

// Stacked series: each series' values plus those of the series before it (a missing value
// adds nothing and stays missing), and uPlot's bands that fill between each series and the
// one below it. Series are uPlot's 1..n (0 is the time).
export function stack(values) {
  const sums = (values[0] || []).map(() => 0);
  const data = values.map((vs) => vs.map((v, i) => {
    if (v == null) return null;
    sums[i] += v;
    return sums[i];
  }));
  const bands = values.slice(1).map((_vs, k) => ({ series: [k + 2, k + 1] }));
  return { data, bands };
}

export function isStacked(panel) {
  const custom = ((panel.fieldConfig || {}).defaults || {}).custom || {};
  return (custom.stacking || {}).mode === "normal";
}
