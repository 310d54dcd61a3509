"""The provenance graph as server-rendered SVG: one column per tier, origins on the left.

Pure layout: it takes the graph the API serves (``verify.shipment_graph``) and the
verdict's findings, and returns boxes and arrows with coordinates; the template draws
them. No script is needed to read it; a small script only shows a node's details.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NODE_W = 200
NODE_H = 64
COL_GAP = 70
ROW_GAP = 22
PAD = 16


@dataclass(frozen=True)
class Node:
    id: str
    x: int
    y: int
    severity: str  # "error", "warning" or "ok"
    title: str
    subtitle: str
    place: str
    row: dict[str, Any]


@dataclass(frozen=True)
class Edge:
    path: str
    label: str


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    nodes: list[Node]
    edges: list[Edge]


def _severity(findings: list[dict[str, Any]]) -> str:
    if any(f["severity"] == "error" for f in findings):
        return "error"
    return "warning" if findings else "ok"


def _clip(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def layout(graph: dict[str, Any], findings: list[dict[str, Any]]) -> Layout:
    """Place each node in the column of its tier (deepest tier first) and route the edges."""
    rows: list[dict[str, Any]] = graph["nodes"]
    if not rows:
        return Layout(2 * PAD, 2 * PAD, [], [])
    by_node: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        by_node.setdefault(str(finding.get("attestation")), []).append(finding)
    deepest = max(int(r["tier"]) for r in rows)
    columns: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        columns.setdefault(deepest - int(row["tier"]), []).append(row)
    tallest = max(len(c) for c in columns.values())
    height = PAD * 2 + tallest * NODE_H + (tallest - 1) * ROW_GAP
    width = PAD * 2 + (deepest + 1) * NODE_W + deepest * COL_GAP
    nodes: dict[str, Node] = {}
    for col, members in sorted(columns.items()):
        used = len(members) * NODE_H + (len(members) - 1) * ROW_GAP
        top = (height - used) // 2
        for i, row in enumerate(members):
            kind = str(row.get("process") or row.get("type") or "?")
            who = str(row.get("party_name") or row.get("party") or "")
            place = ", ".join(str(p) for p in (row.get("region") or row.get("country"),) if p)
            nodes[row["attestation"]] = Node(
                id=row["attestation"],
                x=PAD + col * (NODE_W + COL_GAP),
                y=top + i * (NODE_H + ROW_GAP),
                severity=_severity(by_node.get(row["attestation"], [])),
                title=_clip(kind.replace("-", " ")),
                subtitle=_clip(who),
                place=place,
                row=row,
            )
    edges = []
    for edge in graph["edges"]:
        a, b = nodes.get(edge["from"]), nodes.get(edge["to"])
        if a is None or b is None:
            continue
        x1, y1 = a.x + NODE_W, a.y + NODE_H // 2
        x2, y2 = b.x, b.y + NODE_H // 2
        mid = (x1 + x2) // 2
        amount = f"{edge['amount']} {edge.get('unit') or ''}".strip()
        edges.append(
            Edge(f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2 - 6},{y2}", f"{edge.get('lot')}: {amount}")
        )
    return Layout(width, height, list(nodes.values()), edges)
