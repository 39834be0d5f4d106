"""`--target ADDR`: keep only the targeted changes, what they depend on, and (for destroys) what depends
on them, as Terraform does."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.actions import Action
from reconciler.errors import ReconcilerError
from reconciler.plan.model import ResourceChange


def _matches(address: str, target: str) -> bool:
    return address == target or (address.startswith(target + "[") and "[" not in target)


def apply_targets(changes: Sequence[ResourceChange], targets: Sequence[str]) -> list[ResourceChange]:
    if not targets:
        return list(changes)
    by_address = {c.address: c for c in changes}
    selected: set[str] = set()
    for t in targets:
        hit = [a for a in by_address if _matches(a, t)]
        if not hit:
            raise ReconcilerError(f'--target "{t}" matches no resource in the configuration or state',
                                  hint="see `reconciler state list` for addresses")
        selected.update(hit)
    # what targeted creates/updates need, transitively
    stack = [a for a in selected if by_address[a].action is not Action.DELETE]
    while stack:
        for dep in by_address[stack.pop()].dependencies:
            if dep in by_address and dep not in selected:
                selected.add(dep)
                stack.append(dep)
    # what depends on a targeted destroy goes too
    deleting = {a for a in selected if by_address[a].action in (Action.DELETE, Action.REPLACE)}
    changed = True
    while changed:
        changed = False
        for c in changes:
            if c.address not in selected and deleting.intersection(c.dependencies) and \
                    c.action in (Action.DELETE, Action.REPLACE, Action.INSTALL, Action.DORMANT):
                selected.add(c.address)
                deleting.add(c.address)
                changed = True
    return [c for c in changes if c.address in selected]
