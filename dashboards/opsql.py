"""Panel SQL over `ops_samples`, the collector's samples (docs/events.md "What SREs watch").

Every query reads one metric (or a few) through its table's order key
(`metric`, then the time in `$__timeFilter`), as *points* (`points()`, aliased
`s`). When the interval is not whole minutes (under a minute, as at the SRE
dashboards' default 6 hours) each sample is a point, from `ops_samples`;
otherwise each block of each series is one, from the coarsest level of
analytics/rollups.py whose blocks (a minute, 5 minutes, an hour) the interval
is made of, with the series' labels joined from `ops_series`: a 6th, 30th or
360th of the rows, and no labels read per row. The other branches of the
`UNION ALL` have a constant false `WHERE` and read nothing. A point has
`metric`, `series` (`sipHash64(labels)`), `labels`, `ts` (the sample's time;
the block's newest sample's), `opening`, `closing`, `peak` (a sample: its value
thrice). Each bucket is whole blocks, so both give the same numbers
(tests/dashboards/test_rollup.py), but for the range's first and last block,
which a level reads whole when it starts in the range and not at all otherwise.

Time buckets are the panel's interval (`$__timeInterval(s.ts)`, named `time`);
a gauge is its last value in the bucket; a counter's rate is the sum of its
rises over the series in the group, per second of the bucket. A point's rise
is from the previous point's last value to its first (that first value when it
is lower: a restart from 0, as Prometheus' `increase()`), plus the rise within
the block: last − first, or when the last is below the highest (a restart in
the block) highest − first + last. For samples that is exactly the rises
between consecutive samples; for blocks too unless a series restarts twice in
one block or climbs past its old high within the block it restarted in.
Labels are `s.labels['name']`.
"""

from __future__ import annotations

from collections.abc import Sequence

from analytics.rollups import LEVELS, SERIES, SERIES_KEY
from analytics.schema import OPS

RAW = OPS.table
T = f"{RAW} AS s"  # the samples themselves (table panels)


def _in(metrics: Sequence[str]) -> str:
    return "s.metric IN (" + ", ".join(f"'{m}'" for m in metrics) + ")"


def _and(where: str) -> str:
    return f"\n  AND {where}" if where else ""


def _level(i: int) -> str:
    """When level i of LEVELS is read: the interval is whole blocks of it, not of the next."""
    step = LEVELS[i][0]
    coarser = f" AND $__interval_s % {LEVELS[i + 1][0]} != 0" if i + 1 < len(LEVELS) else ""
    return f"$__interval_s % {step} = 0{coarser}"


def _blocks(i: int, metrics: Sequence[str], pick: str) -> str:
    """The points of level i: its blocks, the labels joined from `ops_series`."""
    when, table = _level(i), LEVELS[i][1]
    return f"""  SELECT m.metric AS metric, m.series AS series, k.labels AS labels, m.ts AS ts,
         m.opening AS opening, m.closing AS closing, m.peak AS peak
  FROM (
    SELECT s.metric AS metric, s.series AS series, max(s.seen) AS ts,
           argMinMerge(s.opening) AS opening, argMaxMerge(s.closing) AS closing,
           max(s.peak) AS peak
    FROM {table} AS s
    WHERE {when} AND $__timeFilter(s.start) AND {_in(metrics)}
    GROUP BY s.metric, s.series, s.start
  ) AS m
  INNER JOIN (
    SELECT s.metric AS metric, s.series AS series, any(s.labels) AS labels
    FROM {SERIES} AS s
    WHERE {when} AND {pick}
    GROUP BY s.metric, s.series
  ) AS k ON m.metric = k.metric AND m.series = k.series"""


def points(metrics: Sequence[str], where: str = "") -> str:
    """The points of `metrics` in the range (module docstring), as `(...) AS s`."""
    pick = f"{_in(metrics)}{_and(where)}"
    raw = f"""  SELECT s.metric AS metric, {SERIES_KEY.replace("labels", "s.labels")} AS series,
         s.labels AS labels, s.ts AS ts, s.value AS opening, s.value AS closing, s.value AS peak
  FROM {RAW} AS s
  WHERE $__interval_s % {LEVELS[0][0]} != 0 AND $__timeFilter(s.ts) AND {pick}"""
    branches = [raw, *(_blocks(i, metrics, pick) for i in range(len(LEVELS)))]
    return "(\n" + "\n  UNION ALL\n".join(branches) + "\n) AS s"


def gauges(metrics: Sequence[str], where: str = "", names: Sequence[str] = ()) -> str:
    """One column per metric (named by `names`, or the metric), its last value per bucket."""
    cols = ",\n       ".join(
        f"argMaxIf(s.closing, s.ts, s.metric = '{m}') AS {n}"
        for m, n in zip(metrics, names or metrics, strict=True)
    )
    return (
        f"SELECT $__timeInterval(s.ts) AS time,\n       {cols}\n"
        f"FROM {points(metrics, where)}\nGROUP BY time\nORDER BY time"
    )


def _key(by: str) -> tuple[str, str]:
    """The series key of label(s) `by` ("group,topic": both, joined by " / ") and its alias."""
    labels = by.split(",")
    if len(labels) == 1:
        return f"s.labels['{by}']", by
    return "concat(" + ", ' / ', ".join(f"s.labels['{b}']" for b in labels) + ")", "series"


def gauge_by(metric: str, by: str, where: str = "", name: str = "value") -> str:
    """One series per value of label(s) `by`: the last value per bucket of each."""
    key, alias = _key(by)
    return (
        f"SELECT $__timeInterval(s.ts) AS time, {key} AS {alias},\n"
        f"       argMax(s.closing, s.ts) AS {name}\n"
        f"FROM {points([metric], where)}\n"
        f"GROUP BY time, {alias}\nORDER BY time, {alias}"
    )


def _rise(series: str) -> str:
    """A point's rise (module docstring), `series` the window's PARTITION BY."""
    return (
        f"lagInFrame(s.closing, 1, s.opening) OVER (PARTITION BY {series} ORDER BY s.ts) AS prev,\n"
        "         if(s.opening >= prev, s.opening - prev, s.opening)\n"
        "           + if(s.closing >= s.peak, s.closing - s.opening,\n"
        "                s.peak - s.opening + s.closing) AS rise"
    )


def rises(metrics: Sequence[str], where: str = "") -> str:
    """Per bucket and metric, the rises of its counters (summed in the outer query)."""
    return (
        "SELECT $__timeInterval(s.ts) AS time, s.metric AS m, s.labels AS l,\n"
        f"         {_rise('s.metric, s.series')}\n"
        f"  FROM {points(metrics, where)}"
    )


def rise_ratio(num: str, den: str, where: str = "", name: str = "ratio") -> str:
    """Per bucket: the rise of counter `num` / that of `den` (all series summed)."""
    return (
        f"SELECT time, sumIf(rise, m = '{num}') / sumIf(rise, m = '{den}') AS {name}\n"
        f"FROM (\n  {rises([num, den], where)}\n)\n"
        f"GROUP BY time\nHAVING sumIf(rise, m = '{den}') > 0\nORDER BY time"
    )


def rate(metrics: Sequence[str], by: str = "", where: str = "", name: str = "per_second") -> str:
    """Counters as rates per second: per bucket (and per value of label `by`, or per
    metric when `by` is "metric"), summed over the series."""
    key = "m" if by == "metric" else f"l['{by}']"
    pick, group = (f"{key} AS {by}, ", f", {by}") if by else ("", "")
    return (
        f"SELECT time, {pick}sum(rise) / $__interval_s AS {name}\n"
        f"FROM (\n  {rises(metrics, where)}\n)\n"
        f"GROUP BY time{group}\nORDER BY time{group}"
    )


def newest(metric: str) -> str:
    """The time of the newest sample of `metric` in the range. The minutes (`ops_1m`) name
    the newest minute with samples that starts before the range's last minute; only from
    there are the samples read (when none, from the range's start)."""
    return (
        f"SELECT max(ts) FROM {RAW}\n"
        f"               WHERE metric = '{metric}' AND $__timeFilter(ts)\n"
        f"                 AND ts >= (SELECT max(start) FROM {LEVELS[0][1]}\n"
        f"                            WHERE metric = '{metric}'\n"
        "                              AND start >= toStartOfMinute($__fromTime)\n"
        "                              AND start < toStartOfMinute($__toTime))"
    )


def latest(metric: str, columns: str, key: str, where: str = "") -> str:
    """The samples of the newest round of `metric` in the range as table rows, one per
    `key` (a sample relayed twice is one row), ordered by it."""
    return (
        f"SELECT {columns}\nFROM {T}\n"
        f"WHERE s.metric = '{metric}'{_and(where)}\n"
        f"  AND s.ts = ({newest(metric)})\n"
        f"ORDER BY {key}\nLIMIT 1 BY {key}"
    )


def last_values(metrics: Sequence[str], names: Sequence[str] = ()) -> str:
    """One row: the newest value in the range of each metric (all its series summed)."""
    cols = ",\n       ".join(
        f"sumIf(v, m = '{m}') AS {n}" for m, n in zip(metrics, names or metrics, strict=True)
    )
    return (
        f"SELECT {cols}\nFROM (\n"
        "  SELECT s.metric AS m, argMax(s.closing, s.ts) AS v\n"
        f"  FROM {points(metrics)}\n"
        "  GROUP BY m, s.series\n)"
    )


def quantiles(metric: str, qs: Sequence[float], where: str = "") -> str:
    """Quantiles of a Prometheus histogram (`metric` = its `_bucket` series, label `le`)
    per bucket, all series summed: linear within the bucket the rank falls in, the
    highest finite bound when in +Inf (Prometheus' histogram_quantile; the same
    computation as alerts/rules/gateway.yaml GatewaySendLatencyHigh)."""
    cols = ",\n       ".join(f"anyIf(v, q = {q}) AS {_qname(q)}" for q in qs)
    return f"""SELECT time,
       {cols}
FROM (
  SELECT time, q, cums[length(cums)] * q AS rank,
         arrayFirstIndex(c -> c >= rank, arrayPopBack(cums)) AS idx,
         if(idx > 1, les[idx - 1], 0) AS lower, if(idx > 1, cums[idx - 1], 0) AS below,
         if(idx = 0, les[length(les) - 1],
            lower + (les[idx] - lower) * (rank - below) / (cums[idx] - below)) AS v
  FROM (
    SELECT time, arraySort(groupArray((le, n))) AS buckets,
           arrayMap(b -> b.1, buckets) AS les, arrayMap(b -> b.2, buckets) AS cums
    FROM (
      SELECT time, le, sum(rise) AS n
      FROM (
        SELECT $__timeInterval(s.ts) AS time, toFloat64(s.labels['le']) AS le,
               {_rise("s.series")}
        FROM {points([metric], where)}
      )
      GROUP BY time, le
    )
    GROUP BY time
  )
  ARRAY JOIN [{", ".join(str(q) for q in qs)}] AS q
  WHERE cums[length(cums)] > 0
)
GROUP BY time
ORDER BY time"""


def _qname(q: float) -> str:
    return "p" + f"{q * 100:g}".replace(".", "_")
