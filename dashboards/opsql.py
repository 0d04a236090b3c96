"""Panel SQL over `ops_samples`, the collector's samples (docs/events.md "What SREs watch").

Every query reads one metric (or a few) through the table's order key
(`metric`, then `ts` in `$__timeFilter`), with `s` as the table's alias (an
output alias `value` would shadow the column). Time buckets are the panel's
interval (`$__timeInterval(s.ts)`, named `time`); a gauge is its last sample
in the bucket; a counter's rate is the sum of its rises between consecutive
samples of each series in the bucket (a drop is a restart from 0, as
Prometheus' `increase()`), over the series in the group, per second of the
bucket. Labels are `s.labels['name']`.
"""

from __future__ import annotations

from collections.abc import Sequence

T = "ops_samples AS s"


def _in(metrics: Sequence[str]) -> str:
    return "s.metric IN (" + ", ".join(f"'{m}'" for m in metrics) + ")"


def _and(where: str) -> str:
    return f"\n  AND {where}" if where else ""


def gauges(metrics: Sequence[str], where: str = "", names: Sequence[str] = ()) -> str:
    """One column per metric (named by `names`, or the metric), its last sample per bucket."""
    cols = ",\n       ".join(
        f"argMaxIf(s.value, s.ts, s.metric = '{m}') AS {n}"
        for m, n in zip(metrics, names or metrics, strict=True)
    )
    return (
        f"SELECT $__timeInterval(s.ts) AS time,\n       {cols}\n"
        f"FROM {T}\nWHERE {_in(metrics)} AND $__timeFilter(s.ts){_and(where)}\n"
        "GROUP BY time\nORDER BY time"
    )


def _key(by: str) -> tuple[str, str]:
    """The series key of label(s) `by` ("group,topic": both, joined by " / ") and its alias."""
    labels = by.split(",")
    if len(labels) == 1:
        return f"s.labels['{by}']", by
    return "concat(" + ", ' / ', ".join(f"s.labels['{b}']" for b in labels) + ")", "series"


def gauge_by(metric: str, by: str, where: str = "", name: str = "value") -> str:
    """One series per value of label(s) `by`: the last sample per bucket of each."""
    key, alias = _key(by)
    return (
        f"SELECT $__timeInterval(s.ts) AS time, {key} AS {alias},\n"
        f"       argMax(s.value, s.ts) AS {name}\n"
        f"FROM {T}\nWHERE s.metric = '{metric}' AND $__timeFilter(s.ts){_and(where)}\n"
        f"GROUP BY time, {alias}\nORDER BY time, {alias}"
    )


def rises(metrics: Sequence[str], where: str = "") -> str:
    """Per bucket and metric, the rises of its counters (summed in the outer query)."""
    return (
        "SELECT $__timeInterval(s.ts) AS time, s.metric AS m, s.labels AS l,\n"
        "         s.value - lagInFrame(s.value, 1, s.value)\n"
        "           OVER (PARTITION BY s.metric, s.labels ORDER BY s.ts) AS d,\n"
        "         if(d >= 0, d, s.value) AS rise\n"
        f"  FROM {T}\n  WHERE {_in(metrics)} AND $__timeFilter(s.ts){_and(where)}"
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


def latest(metric: str, columns: str, key: str, where: str = "") -> str:
    """The samples of the newest round of `metric` in the range as table rows, one per
    `key` (a sample relayed twice is one row), ordered by it."""
    return (
        f"SELECT {columns}\nFROM {T}\n"
        f"WHERE s.metric = '{metric}'{_and(where)}\n"
        "  AND s.ts = (SELECT max(ts) FROM ops_samples\n"
        f"               WHERE metric = '{metric}' AND $__timeFilter(ts))\n"
        f"ORDER BY {key}\nLIMIT 1 BY {key}"
    )


def last_values(metrics: Sequence[str], names: Sequence[str] = ()) -> str:
    """One row: the newest sample in the range of each metric (all its series summed)."""
    cols = ",\n       ".join(
        f"sumIf(v, m = '{m}') AS {n}" for m, n in zip(metrics, names or metrics, strict=True)
    )
    return (
        f"SELECT {cols}\nFROM (\n"
        "  SELECT s.metric AS m, s.labels AS l, argMax(s.value, s.ts) AS v\n"
        f"  FROM {T}\n  WHERE {_in(metrics)} AND $__timeFilter(s.ts)\n"
        "  GROUP BY m, l\n)"
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
               s.value - lagInFrame(s.value, 1, s.value)
                 OVER (PARTITION BY s.labels ORDER BY s.ts) AS d,
               if(d >= 0, d, s.value) AS rise
        FROM {T}
        WHERE s.metric = '{metric}' AND $__timeFilter(s.ts){_and(where)}
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
