"""The plan as text, laid out as Terraform's: a legend of the symbols used, drift first ("Objects have
changed outside of reconciler", with the values), each changed resource with its changed attributes, the
summary line exactly as Terraform's (`Plan: N to add, N to change, N to destroy.`), our own
`NixOS: N to install, N to update.` line and the monthly cost, then `Changes to Outputs:`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from reconciler.actions import Action
from reconciler.config.scope import split_address
from reconciler.plan.drift import Drift
from reconciler.plan.model import Cost, OutputChange, Plan, ResourceChange
from reconciler.plan.render_diff import Differ
from reconciler.reasons import Reason
from reconciler.values import UNKNOWN

STYLES = {
    Action.CREATE: "green", Action.DELETE: "red", Action.REPLACE: "yellow", Action.UPDATE: "yellow",
    Action.INSTALL: "cyan", Action.NIXOS_UPDATE: "cyan", Action.DORMANT: "dim",
}
LEGEND = {
    Action.CREATE: "create", Action.UPDATE: "update in-place", Action.DELETE: "destroy",
    Action.REPLACE: "destroy and then create replacement", Action.INSTALL: "install NixOS (reconciler)",
    Action.NIXOS_UPDATE: "update NixOS (reconciler)",
    Action.DORMANT: "dormant: enabled = false, or depends on a disabled resource (reconciler)",
}
_HEADLINE = {
    Action.CREATE: "will be created", Action.UPDATE: "will be updated in-place", Action.DELETE: "will be destroyed",
    Action.REPLACE: "must be replaced", Action.INSTALL: "will get NixOS installed",
    Action.NIXOS_UPDATE: "will get its NixOS system updated", Action.DORMANT: "is dormant",
}
RULE = "─" * 77
CREATE_THEN_DESTROY = "+/-"


def short_store_path(path: object) -> str:
    text = str(path)
    if text.startswith("/nix/store/") and len(text) > 43:
        return text[11:19] + "…" + text[43:]
    return text


def detail(c: ResourceChange) -> str:
    """One short phrase for what happens to `c` (tables in the PR comment, progress lines)."""
    a = c.action
    if a is Action.UPDATE:
        text = "update in place: " + ", ".join(c.changed)
    elif a is Action.REPLACE:
        text = "replace: " + ", ".join(c.requires_replace) + " cannot change in place"
        if c.create_before_destroy:
            text += "; create before destroy"
    elif a is Action.NIXOS_UPDATE:
        after = (c.after or {}).get("toplevel")
        shown = "(known after apply)" if after is UNKNOWN else short_store_path(after)
        text = f"update NixOS: {short_store_path((c.before or {}).get('toplevel'))} -> {shown}"
    elif a is Action.INSTALL:
        text = "install NixOS: " + c.reason.value
    elif a is Action.CREATE:
        text = "create"
    elif a is Action.NOOP:
        text = "no changes"
    else:
        text = ("destroy: " if a is Action.DELETE else "dormant: ") + _because(c)
    if c.notes:
        text += "; " + "; ".join(c.notes)
    return text


def _because(c: ResourceChange) -> str:
    if c.reason is Reason.DORMANT_UPSTREAM and c.dormant_because:
        return f"depends on disabled {c.dormant_because}"
    _, key = split_address(c.address)
    if c.reason is Reason.COUNT_ZERO and key is not None:
        return f"index [{key}] is out of range for count" if isinstance(key, int) else \
            f'key ["{key}"] is not in for_each map'
    if c.reason is Reason.NO_CONFIG:
        return f"{split_address(c.address)[0]} is not in configuration"
    return c.reason.value


def _resource_line(symbol: str, c: ResourceChange | Drift, type_: str) -> str:
    base, _ = split_address(c.address)
    return f"{symbol:>3} resource \"{type_}\" \"{base.split('.', 1)[1]}\" {{"


def resource_block(c: ResourceChange) -> list[tuple[str, str]]:
    style = STYLES.get(c.action, "")
    head = [("bold", f"  # {c.address} {_HEADLINE[c.action]}")]
    if c.action in (Action.DELETE, Action.DORMANT, Action.INSTALL, Action.NIXOS_UPDATE) and c.reason.value \
            and c.reason is not Reason.DESTROY_MODE:
        head.append(("", f"  # (because {_because(c)})"))
    if c.action is Action.REPLACE and c.create_before_destroy:
        head.append(("", "  # (create before destroy)"))
    head += [("", f"  # ({note})") for note in c.notes]
    if c.action is Action.DORMANT:
        return [*head, (style, f"{c.action.symbol:>3} resource \"{c.type}\" \"{c.name}\" {{}}"), ("", "")]
    show_all = c.action in (Action.CREATE, Action.DELETE) or (c.action is Action.INSTALL and c.before is None)
    differ = Differ(c.sensitive, c.requires_replace, show_all=show_all)
    after = None if c.action is Action.DELETE else c.after
    body = differ.body(c.before, after, "      ")
    # the resource's lines go out as one piece (one style): a 10,000-machine plan has 300,000 of them
    return [*head, (style, "\n".join([_resource_line(symbol(c), c, c.type), *body, "    }"])), ("", "")]


def symbol(c: ResourceChange) -> str:
    """The plan symbol of a change; a replace that creates first is Terraform's `+/-`."""
    return CREATE_THEN_DESTROY if c.action is Action.REPLACE and c.create_before_destroy else c.action.symbol


def legend_lines(changes: Iterable[ResourceChange]) -> list[tuple[str, str]]:
    used = {symbol(c): c.action for c in changes if c.action is not Action.NOOP}
    if not used:
        return []
    out = [("", "reconciler used the selected providers to generate the following execution plan. Resource "
                "actions are indicated with the following symbols:")]
    for a in Action:
        for sym, action in used.items():
            if action is a:
                text = "create replacement and then destroy" if sym == CREATE_THEN_DESTROY else LEGEND[a]
                out.append((STYLES.get(a, ""), f"{sym:>3} {text}"))
    return [*out, ("", "")]


def summary_line(plan: Plan) -> str:
    n = plan.counts()
    return f"Plan: {n['add']} to add, {n['change']} to change, {n['destroy']} to destroy."


def nixos_line(plan: Plan) -> str:
    n = plan.counts()
    return f"NixOS: {n['install']} to install, {n['update']} to update."


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


_DRIFT_HEADLINE = {"changed": "has changed", "deleted": "has been deleted",
                   "adopted": "was found by its ownership labels and adopted",
                   "running": "runs another NixOS system than the one recorded"}


def drift_block(d: Drift) -> list[tuple[str, str]]:
    symbol = {"deleted": "-", "adopted": "+"}.get(d.kind, "~")
    type_ = d.type or d.address.split(".", 1)[0]
    before = d.before if d.kind != "adopted" else None
    after = d.after if d.kind != "deleted" else None
    body = Differ(show_all=False).body(before, after, "      ")
    if d.kind == "deleted":
        body = Differ().body(before, None, "      ")
    return [("bold", f"  # {d.address} {_DRIFT_HEADLINE[d.kind]}"), ("yellow", _resource_line(symbol, d, type_)),
            *(("yellow", line) for line in body), ("yellow", "    }"), ("", "")]


def drift_lines(plan: Plan) -> list[tuple[str, str]]:
    if not plan.drift:
        return [("green", "No drift: everything is as recorded.")] if plan.refresh_only else []
    out = [("bold", "Note: Objects have changed outside of reconciler"), ("", ""),
           ("", "reconciler detected the following changes made outside of reconciler since the last "
                "\"reconciler apply\" which may have affected this plan:"), ("", "")]
    for d in plan.drift:
        out += drift_block(d)
    if not plan.refresh_only:
        out += [("", "Unless you have made equivalent changes to your configuration, or ignored the relevant "
                     "attributes using ignore_changes, the following plan may include actions to undo or respond "
                     "to these changes."), ("", ""), ("dim", RULE), ("", "")]
    return out


def output_lines(outputs: Iterable[OutputChange]) -> list[tuple[str, str]]:
    """`Changes to Outputs:` with each changed output as `+ name = value` or `~ name = old -> new`."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    sensitive = []
    for o in outputs:
        if o.recorded and o.before == o.after and o.after is not UNKNOWN:
            continue
        if o.recorded:
            before[o.name] = o.before
        after[o.name] = o.after
        if o.sensitive:
            sensitive.append(o.name)
    if not after:
        return []
    body = Differ(tuple(sensitive), show_all=True).body(before, after, "  ")
    return [("", ""), ("", "Changes to Outputs:"), *(("", line) for line in body)]


def render_lines(plan: Plan) -> Iterator[tuple[str, str]]:
    """(style, line) of the whole text plan, made as they are printed (a large plan is never all in memory)."""
    yield from (("yellow", f"Warning: {w}") for w in plan.warnings)
    yield from drift_lines(plan)
    if plan.refresh_only:
        if plan.drift:
            yield "", "Apply a saved --refresh-only plan to record these in state; nothing else changes."
        return
    if plan.destroy:
        yield ("bold", "Destroy plan: the targeted resources and what depends on them will be destroyed."
               if plan.targets else "Destroy plan: every resource in state will be destroyed.")
        yield "", ""
    acting = any(c.action is not Action.NOOP for c in plan.changes)
    outputs = output_lines(plan.outputs)
    if acting or outputs:
        yield from legend_lines(plan.changes)
        if acting:
            yield "", "reconciler will perform the following actions:"
            yield "", ""
            for c in plan.changes:
                if c.action is not Action.NOOP:
                    yield from resource_block(c)
        yield "bold", summary_line(plan)
        yield "bold", nixos_line(plan)
    else:
        yield "green", "No changes. The fleet matches the configuration."
    yield from (("", c) for c in cost_lines(plan.cost))
    yield from outputs
    if plan.targets:
        yield "", ""
        yield "yellow", "Note: --target limits this plan to " + ", ".join(plan.targets) + \
            "; the rest of the configuration may differ."


def render_text(plan: Plan) -> str:
    return "\n".join(text for _, text in render_lines(plan)) + "\n"
