"""Reading Prometheus text in tests: the sum of a metric's series whose labels include some."""

from __future__ import annotations


def series(text: str, name: str, **labels: str) -> float:
    """The sum of every series of `name` whose labels include these (Ray adds its own: node, worker, ...)."""
    from prometheus_client.parser import text_string_to_metric_families

    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))
