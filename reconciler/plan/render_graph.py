"""The action graph as Graphviz dot or as a Mermaid flowchart.

The Mermaid picture (the PR comment's) colours each node by its action (create, destroy, replace, update,
NixOS install, NixOS update, dormant) with a legend of the colours used, and groups the nodes by provider in
subgraphs. Past `max_nodes` it draws a summary instead, one node per resource type and action with its
count (`hcloud_server: + create (75)`), so that a large fleet stays a readable picture, not a long strip.
"""

from __future__ import annotations

import re
from collections import defaultdict

import networkx as nx

from reconciler.actions import Action

_ID = re.compile(r"[^A-Za-z0-9_]")

# class name, mermaid style, legend text
_CLASSES: dict[Action, tuple[str, str, str]] = {
    Action.CREATE: ("create", "fill:#d3f9d8,stroke:#2b8a3e,color:#0b3d17", "create"),
    Action.DELETE: ("destroy", "fill:#ffe3e3,stroke:#c92a2a,color:#5c0b0b", "destroy"),
    Action.REPLACE: ("replace", "fill:#ffe8cc,stroke:#d9480f,color:#5c2305", "replace"),
    Action.UPDATE: ("update", "fill:#fff3bf,stroke:#e67700,color:#4d2a00", "update in place"),
    Action.INSTALL: ("install", "fill:#d0ebff,stroke:#1864ab,color:#0b2e4f", "install NixOS"),
    Action.NIXOS_UPDATE: ("nixosupdate", "fill:#e5dbff,stroke:#5f3dc4,color:#2b1a5c", "update NixOS"),
    Action.DORMANT: ("dormant", "fill:#f1f3f5,stroke:#868e96,color:#495057,stroke-dasharray:4 3", "dormant"),
    Action.NOOP: ("noop", "fill:#ffffff,stroke:#adb5bd,color:#495057", "no change"),
}


def _node_id(address: str) -> str:
    return "n_" + _ID.sub("_", address)


def _action(g: nx.DiGraph, node: str) -> Action:
    return Action(g.nodes[node].get("action", "no-op"))


def _label(g: nx.DiGraph, node: str) -> str:
    return f"{_action(g, node).symbol.strip() or '·'} {node}"


def _text(label: str) -> str:
    return label.replace('"', "#quot;")


def _provider(address: str) -> str:
    return address.split(".", 1)[0].split("_", 1)[0]


def _header(used: set[Action]) -> list[str]:
    lines = ["flowchart TD"]
    lines += [f"  classDef {_CLASSES[a][0]} {_CLASSES[a][1]}" for a in Action if a in used]
    return lines


def _legend(used: set[Action]) -> list[str]:
    lines = ['  subgraph legend["Legend"]', "    direction LR"]
    for a in Action:
        if a in used:
            name, _, text = _CLASSES[a]
            lines.append(f'    legend_{name}["{_text((a.symbol.strip() or "·") + " " + text)}"]:::{name}')
    return [*lines, "  end"]


def to_mermaid(g: nx.DiGraph, max_nodes: int | None = None) -> str:
    """A Mermaid flowchart of `g`; past `max_nodes` nodes, the summary by resource type and action."""
    if max_nodes is not None and g.number_of_nodes() > max_nodes:
        return summary_mermaid(g)
    used = {_action(g, n) for n in g.nodes}
    lines = _header(used)
    by_provider: dict[str, list[str]] = defaultdict(list)
    for node in sorted(g.nodes):
        by_provider[_provider(node)].append(node)
    for provider, nodes in sorted(by_provider.items()):
        lines.append(f'  subgraph p_{_ID.sub("_", provider)}["{_text(provider)}"]')
        for node in nodes:
            lines.append(f'    {_node_id(node)}["{_text(_label(g, node))}"]:::{_CLASSES[_action(g, node)][0]}')
        lines.append("  end")
    for a, b in sorted(g.edges):
        lines.append(f"  {_node_id(a)} --> {_node_id(b)}")
    if used:
        lines += _legend(used)
    return "\n".join(lines) + "\n"


def summary_mermaid(g: nx.DiGraph) -> str:
    """One node per (resource type, action) with its count, grouped by provider; an edge where any member
    of one group goes before any member of another."""
    group_of = {n: (n.split(".", 1)[0], _action(g, n)) for n in g.nodes}
    sizes: dict[tuple[str, Action], int] = defaultdict(int)
    for key in group_of.values():
        sizes[key] += 1

    def gid(key: tuple[str, Action]) -> str:
        return f"g_{_ID.sub('_', key[0])}_{_CLASSES[key[1]][0]}"

    used = {a for _, a in sizes}
    lines = _header(used)
    by_provider: dict[str, list[tuple[str, Action]]] = defaultdict(list)
    for key in sorted(sizes, key=lambda k: (k[0], list(Action).index(k[1]))):
        by_provider[_provider(key[0])].append(key)
    for provider, keys in sorted(by_provider.items()):
        lines.append(f'  subgraph p_{_ID.sub("_", provider)}["{_text(provider)}"]')
        for key in keys:
            label = f"{key[0]}: {key[1].symbol.strip() or '·'} {_CLASSES[key[1]][2]} ({sizes[key]})"
            lines.append(f'    {gid(key)}["{_text(label)}"]:::{_CLASSES[key[1]][0]}')
        lines.append("  end")
    edges = sorted({(gid(group_of[a]), gid(group_of[b])) for a, b in g.edges if group_of[a] != group_of[b]})
    lines += [f"  {a} --> {b}" for a, b in edges]
    lines += _legend(used)
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
