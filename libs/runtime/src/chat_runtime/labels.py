"""Labelled children of Prometheus metrics, cached.

`metric.labels(...)` takes a lock and a dict lookup per call, which shows at tens of
thousands of events a second; the hot paths keep the children they have used.
"""

from __future__ import annotations

from typing import Any


class LabelCache:
    """`children(metric, "a", "b")` is `metric.labels("a", "b")`, made once."""

    __slots__ = ("_children",)

    def __init__(self) -> None:
        self._children: dict[tuple[Any, ...], Any] = {}

    def __call__(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child
