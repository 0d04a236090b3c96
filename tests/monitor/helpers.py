"""Looking samples up by metric and labels."""

from __future__ import annotations

from collections.abc import Iterable

from monitor.sample import Sample


def find(samples: Iterable[Sample], metric: str, **labels: str) -> list[Sample]:
    """The samples of `metric` whose labels include `labels`."""
    return [
        s
        for s in samples
        if s.metric == metric and all(s.labels.get(k) == v for k, v in labels.items())
    ]


def value(samples: Iterable[Sample], metric: str, **labels: str) -> float:
    """The value of the one sample of `metric` with exactly `labels`."""
    found = [s for s in find(samples, metric, **labels) if dict(s.labels) == labels]
    assert len(found) == 1, (metric, labels, found)
    return found[0].value
