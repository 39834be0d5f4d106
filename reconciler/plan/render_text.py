"""The plan as text: one line per resource with its symbol, the summary line and the monthly cost."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.actions import Action
from reconciler.plan.model import Cost, Plan, ResourceChange
from reconciler.reasons import Reason
from reconciler.values import UNKNOWN

STYLES = {
    Action.CREATE: "green", Action.DELETE: "red", Action.REPLACE: "yellow", Action.UPDATE: "yellow",
    Action.INSTALL: "cyan", Action.NIXOS_UPDATE: "cyan", Action.DORMANT: "dim",
}


def short_store_path(path: object) -> str:
    text = str(path)
    if text.startswith("/nix/store/") and len(text) > 43:
        return text[11:19] + "…" + text[43:]
    return text


def detail(c: ResourceChange) -> str:
    a = c.action
    if a is Action.CREATE:
        text = "create"
    elif a is Action.UPDATE:
        text = "update in place: " + ", ".join(c.changed)
    elif a is Action.REPLACE:
        text = "replace: " + ", ".join(c.requires_replace) + " cannot change in place"
        if c.create_before_destroy:
            text += "; create before destroy"
    elif a is Action.DELETE:
        text = "destroy: " + c.reason.value
        if c.reason is Reason.DORMANT_UPSTREAM and c.dormant_because:
            text = f"destroy: depends on disabled {c.dormant_because}"
    elif a is Action.INSTALL:
        text = "install NixOS: " + c.reason.value
    elif a is Action.NIXOS_UPDATE:
        before = (c.before or {}).get("toplevel")
        after = (c.after or {}).get("toplevel")
        shown = "(known after apply)" if after is UNKNOWN else short_store_path(after)
        text = f"update NixOS: {short_store_path(before)} -> {shown}"
        if c.reason is Reason.INVENTORY_CHANGED:
            text += "; its inventory.json entry changes"
        if c.reason is Reason.NIXOS_DRIFT:
            text += " (drift: the running system differs)"
    elif a is Action.DORMANT:
        text = "dormant: " + (f"depends on disabled {c.dormant_because}" if c.dormant_because else c.reason.value)
    else:
        text = "no changes"
    if c.notes:
        text += "; " + "; ".join(c.notes)
    return text


def change_lines(changes: Iterable[ResourceChange]) -> list[tuple[str, str]]:
    """(style, line) for each change that shows; no-ops are left out."""
    out = []
    for c in changes:
        if c.action is Action.NOOP:
            continue
        out.append((STYLES.get(c.action, ""), f"{c.action.symbol:>3} {c.address}  ({detail(c)})"))
    return out


def summary_line(plan: Plan) -> str:
    n = plan.counts()
    return (f"Plan: {n['add']} to add, {n['change']} to change, {n['destroy']} to destroy, "
            f"{n['install']} to install, {n['update']} to update.")


def money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def cost_lines(cost: Cost | None) -> list[str]:
    if cost is None:
        return ["Monthly cost: no priced resources."]
    out = []
    for line in cost.lines:
        sign = "+" if line.delta >= 0 else "-"
        out.append(f"Monthly cost: {money(line.before, line.currency)} -> {money(line.after, line.currency)} "
                   f"({sign}{money(abs(line.delta), line.currency)})")
    if cost.unpriced:
        out.append(f"  ({len(cost.unpriced)} resource(s) without a known price: "
                   f"{', '.join(cost.unpriced[:5])}{' ...' if len(cost.unpriced) > 5 else ''})")
    return out


def drift_lines(plan: Plan) -> list[tuple[str, str]]:
    if not plan.drift:
        return [("green", "No drift: everything is as recorded.")] if plan.refresh_only else []
    out = [("bold", "Changed outside reconciler since the last apply:"), ("", "")]
    out += [("yellow", f"{d.symbol:>3} {d.address}  ({d.detail})") for d in plan.drift]
    out.append(("", ""))
    return out


def render_lines(plan: Plan) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = [("yellow", f"Warning: {w}") for w in plan.warnings]
    lines += drift_lines(plan)
    if plan.refresh_only:
        if plan.drift:
            lines.append(("", "Apply a saved --refresh-only plan to record these in state; nothing else changes."))
        return lines
    body = change_lines(plan.changes)
    if plan.destroy:
        lines.append(("bold", "Destroy plan: the targeted resources and what depends on them will be destroyed."
                      if plan.targets else "Destroy plan: every resource in state will be destroyed."))
    if body:
        lines.append(("", "reconciler will perform the following actions:"))
        lines.append(("", ""))
        lines.extend(body)
        lines.append(("", ""))
    else:
        lines.append(("green", "No changes. The fleet matches the configuration."))
    lines.append(("bold", summary_line(plan)))
    lines.extend(("", c) for c in cost_lines(plan.cost))
    if plan.targets:
        lines.append(("yellow", "Note: --target limits this plan to " + ", ".join(plan.targets)
                      + "; the rest of the configuration may differ."))
    return lines


def render_text(plan: Plan) -> str:
    return "\n".join(text for _, text in render_lines(plan)) + "\n"
