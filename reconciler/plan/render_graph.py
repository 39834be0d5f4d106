"""The action graph as Graphviz dot or as a Mermaid flowchart."""

from __future__ import annotations

import re

import networkx as nx

from reconciler.actions import Action

_ID = re.compile(r"[^A-Za-z0-9_]")


def _node_id(address: str) -> str:
    return "n_" + _ID.sub("_", address)


def _label(g: nx.DiGraph, node: str) -> str:
    action = Action(g.nodes[node].get("action", "no-op"))
    return f"{action.symbol.strip() or '·'} {node}"


def to_mermaid(g: nx.DiGraph) -> str:
    lines = ["flowchart TD"]
    for node in sorted(g.nodes):
        label = _label(g, node).replace('"', "#quot;")
        lines.append(f'  {_node_id(node)}["{label}"]')
    for a, b in sorted(g.edges):
        lines.append(f"  {_node_id(a)} --> {_node_id(b)}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(g: nx.DiGraph) -> str:
    lines = ["digraph reconciler {", "  rankdir=LR;", '  node [shape=box, fontname="monospace"];']
    for node in sorted(g.nodes):
        lines.append(f"  {_quote(node)} [label={_quote(_label(g, node))}];")
    for a, b in sorted(g.edges):
        lines.append(f"  {_quote(a)} -> {_quote(b)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
