"""The plan as a pull-request comment: summary table, destroys first and flagged, per-machine changes,
cost delta, the graph in a mermaid block and the full list in collapsed details; summarised when it would
pass GitHub's comment limit."""

from __future__ import annotations

import networkx as nx

from reconciler.actions import Action
from reconciler.plan.graph import build_graph
from reconciler.plan.model import Plan, ResourceChange
from reconciler.plan.render_graph import to_mermaid
from reconciler.plan.render_text import cost_lines, detail, nixos_line, summary_line

LIMIT = 60_000
MERMAID_MAX_NODES = 40  # past this the picture is the summary by resource type and action


def _row(c: ResourceChange) -> str:
    return f"| `{c.action.symbol.strip()}` | `{c.address}` | {detail(c).replace('|', '/')} |"


def _table(changes: list[ResourceChange], limit: int | None = None) -> list[str]:
    rows = ["| | Resource | What |", "|---|---|---|"]
    shown = changes if limit is None else changes[:limit]
    rows += [_row(c) for c in shown]
    if limit is not None and len(changes) > limit:
        rows.append(f"| | … | and {len(changes) - limit} more |")
    return rows


def picture(plan: Plan) -> nx.DiGraph:
    """The action graph plus the dormant resources (drawn, greyed, where they would be), for the picture."""
    g = build_graph(plan)
    dormant = {c.address: c for c in plan.changes if c.action is Action.DORMANT}
    for address in dormant:
        g.add_node(address, action=Action.DORMANT.value)
    for address, c in dormant.items():
        for dep in c.dependencies:
            if dep in g:
                g.add_edge(dep, address)
    return g


def _document(plan: Plan, *, compact: bool) -> str:
    n = plan.counts()
    acting = [c for c in plan.changes if c.action is not Action.NOOP]
    destroys = [c for c in acting if c.action in (Action.DELETE, Action.REPLACE)]
    machines = [c for c in acting if c.kind == "machine"]
    out = ["## reconciler plan", "", f"**{summary_line(plan)}** {nixos_line(plan)}", "",
           "| add | change | destroy | install | update |", "|---:|---:|---:|---:|---:|",
           f"| {n['add']} | {n['change']} | {n['destroy']} | {n['install']} | {n['update']} |", ""]
    if destroys:
        out += [f"### :warning: {len(destroys)} destroy(s) — review before merging", ""]
        out += [*_table(destroys, 50 if compact else None), ""]
    if machines:
        out += ["### Machines", "", *_table(machines, 50 if compact else None), ""]
    out += ["### Monthly cost", ""] + [f"- {line}" for line in cost_lines(plan.cost)] + [""]
    graph = picture(plan)
    if graph.number_of_nodes():
        drawn = to_mermaid(graph, max_nodes=MERMAID_MAX_NODES).rstrip()
        note = [] if graph.number_of_nodes() <= MERMAID_MAX_NODES else [
            f"_{graph.number_of_nodes()} steps, drawn by resource type and action; "
            "`reconciler graph PLANFILE` draws every step._", ""]
        out += ["### Order", "", *note, "```mermaid", drawn, "```", ""]
    if acting:
        if compact:
            out += [f"_All {len(acting)} changes are too many for one comment; run `reconciler show PLANFILE`._", ""]
        else:
            out += [f"<details><summary>All changes ({len(acting)})</summary>", ""]
            out += [*_table(acting), "", "</details>", ""]
    else:
        out += ["No changes. The fleet matches the configuration.", ""]
    return "\n".join(out)


def render_markdown(plan: Plan) -> str:
    doc = _document(plan, compact=False)
    if len(doc) > LIMIT:
        doc = _document(plan, compact=True)
    if len(doc) > LIMIT:
        doc = doc[: LIMIT - 200] + "\n\n_… summarised: the plan is too large for one comment._\n"
    return doc
