"""A trace's spans, read from the file exporter's JSON lines (one file per process), as a tree with durations.

    print_tree(load(Path(".synfinance/traces"), trace_id))
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synfinance.errors import NotFound


@dataclass
class Node:
    span: dict[str, Any]
    children: list[Node] = field(default_factory=list)

    @property
    def ms(self) -> float:
        return (self.span["end_ns"] - self.span["start_ns"]) / 1e6


def load(directory: Path, trace_id: str) -> list[Node]:
    """The trace's root spans (normally one), each with its children in start order; NotFound when no span has it."""
    spans = [record for path in sorted(Path(directory).glob("spans-*.jsonl"))
             for line in path.read_text().splitlines() if line and (record := json.loads(line))["trace_id"] == trace_id]
    if not spans:
        raise NotFound(f"no span of trace {trace_id} in {directory} (tracing exporter `file` writes there)")
    nodes = {s["span_id"]: Node(s) for s in spans}
    roots: list[Node] = []
    for node in sorted(nodes.values(), key=lambda n: n.span["start_ns"]):
        parent = nodes.get(node.span["parent_id"] or "")
        (parent.children if parent is not None else roots).append(node)
    return roots


def lines(roots: list[Node]) -> list[tuple[str, float, float, str]]:
    """(indented name, start offset ms, duration ms, service) per span, depth first."""
    if not roots:
        return []
    start = min(r.span["start_ns"] for r in roots)
    out: list[tuple[str, float, float, str]] = []

    def walk(node: Node, depth: int) -> None:
        out.append(("  " * depth + node.span["name"], (node.span["start_ns"] - start) / 1e6, node.ms,
                    str(node.span.get("service") or "")))
        for child in node.children:
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return out
