"""An update (`^`) of one machine as small steps: build, copy, set the profile, activate under a magic-rollback
watchdog, confirm over a new connection, verify /run/current-system, run the health checks; on failure switch
back to the previous generation (or let the target do it when SSH is gone) and report the machine as failed and
rolled back."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from providers.base import Journal
from reconciler.errors import CommandError, HostKeyError, ProviderError
from reconciler.nixos import activate
from reconciler.nixos.context import Context
from reconciler.nixos.errors import RolledBackError, UnreachableError
from reconciler.nixos.machine import MachineSpec
from reconciler.nixos.ssh import ANY_KEY, Endpoint, Session
from reconciler.nixos.transfer import build, copy


@dataclass(frozen=True)
class Deployed:
    toplevel: str
    host_key: str  # the key the host presented (now pinned)


def endpoint_of(spec: MachineSpec, host: str | None = None) -> Endpoint:
    return Endpoint(host or spec.target_host, spec.target_port, spec.target_user, spec.ssh_private_key_file)


async def wait_for_host(ctx: Context, endpoint: Endpoint, pinned: str, timeout: float, *,
                        tolerate_other_key: bool = False) -> Session | None:
    """Connect as soon as the host answers (with the pinned key), or None when `timeout` passes first.

    With `tolerate_other_key`, a host answering with another key is retried until the deadline (a reboot
    where the old system still answers for a moment) and then refused with HostKeyError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await ctx.pool.get(endpoint, pinned)
        except UnreachableError:
            if time.monotonic() >= deadline:
                return None
        except HostKeyError:
            if not tolerate_other_key or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(ctx.settings.poll_interval)


async def update(ctx: Context, spec: MachineSpec, toplevel: str, pinned: str, journal: Journal) -> Deployed:
    s = ctx.settings
    endpoint = endpoint_of(spec)
    journal.phase("build")
    await build(ctx, spec, toplevel)
    session = await ctx.pool.get(endpoint, pinned)
    pinned = session.host_key if pinned == ANY_KEY else pinned  # trust on first use: pinned from here on
    journal.phase("copy")
    await copy(ctx, spec, toplevel, pinned, session)
    journal.phase("activate")
    prep = await activate.prepare(session, toplevel, guard=spec.rollback, activation_timeout=s.activation_timeout,
                                  window=s.confirm_timeout)
    previous, token = prep.previous, prep.token
    can_roll_back = spec.rollback and previous is not None and previous != toplevel
    try:
        out = await activate.switch(session, toplevel, token, systemd=prep.systemd, timeout=s.activation_timeout)
    except UnreachableError:
        out = None  # the switch cut our link; whether it worked is for the new connection to find out
    if out is not None and not out.ok:
        tail = "\n".join(out.stderr.strip().splitlines()[-6:])
        last = tail.splitlines()[-1] if tail else f"exit code {out.exit_code}"
        if can_roll_back and previous is not None:
            await _roll_back(ctx, session, spec, token, previous, prep.systemd, f"activation failed ({last})")
        raise CommandError(f"activating {toplevel} on {spec.name} failed: {last}", argv=out.argv,
                           exit_code=out.exit_code, stderr=tail)

    # confirm over a NEW connection: proof that SSH still works after the switch
    ctx.pool.drop(endpoint)
    journal.phase("confirm")
    window = s.confirm_timeout if token else max(s.confirm_timeout, s.connect_timeout)
    fresh = await wait_for_host(ctx, endpoint, pinned, window)
    if fresh is None:
        if token and previous is not None:
            await _await_target_rollback(ctx, spec, endpoint, pinned, token, toplevel, previous)
        raise UnreachableError(f"{spec.name} did not answer SSH after activating {toplevel}")
    confirmed = await activate.confirm(fresh, token)
    if not confirmed.ours and previous is not None:
        await _await_target_rollback(ctx, spec, endpoint, pinned, token, toplevel, previous, fresh)
    if confirmed.current != toplevel:
        reason = f"/run/current-system is {confirmed.current} after switching to {toplevel}"
        if can_roll_back and previous is not None:
            await _roll_back(ctx, fresh, spec, "", previous, prep.systemd, reason)
        raise ProviderError(f"{spec.name}: {reason}")
    for check in spec.health_checks:
        journal.phase("health check")
        result = await activate.health_check(fresh, check.command, check.timeout)
        if not result.ok:
            last = (result.stderr.strip().splitlines() or [f"exit code {result.exit_code}"])[-1]
            reason = f"health check `{check.command}` failed ({last})"
            if can_roll_back and previous is not None:
                await _roll_back(ctx, fresh, spec, "", previous, prep.systemd, reason)
            raise CommandError(f"{spec.name}: {reason}", argv=result.argv, exit_code=result.exit_code,
                               stderr=result.stderr[-2000:])
    return Deployed(toplevel, fresh.host_key)


async def _roll_back(ctx: Context, session: Session, spec: MachineSpec, token: str, previous: str,
                     systemd: bool, reason: str) -> None:
    """Switch back ourselves (taking the decision from the watchdog first), then raise RolledBackError."""
    if token and not await activate.decide(session, token):
        await _await_target_rollback(ctx, spec, session.endpoint, session.host_key, token, "", previous, session)
    await activate.rollback(session, previous, systemd=systemd, timeout=ctx.settings.activation_timeout)
    raise RolledBackError(f"{spec.name} failed and was rolled back to {previous}: {reason}", previous=previous)


async def _await_target_rollback(ctx: Context, spec: MachineSpec, endpoint: Endpoint, pinned: str, token: str,
                                 toplevel: str, previous: str, session: Session | None = None) -> None:
    """The watchdog decided: wait until the host answers again and has finished its rollback, then raise."""
    s = ctx.settings
    grace = s.confirm_timeout + max(30.0, s.confirm_timeout)
    deadline = time.monotonic() + grace
    outcome: str | None = None
    while time.monotonic() < deadline:
        if session is None or session.closed:
            ctx.pool.drop(endpoint)
            session = await wait_for_host(ctx, endpoint, pinned, max(0.0, deadline - time.monotonic()))
            if session is None:
                break
        try:
            outcome = await activate.watchdog_outcome(session, token)
        except UnreachableError:
            session = None
            continue
        if outcome is not None:
            break
        await asyncio.sleep(s.poll_interval)
    what = f"activating {toplevel}" if toplevel else "the update"
    if outcome is None or session is None:
        raise UnreachableError(f"{spec.name}: SSH was lost after {what} and the host did not come back within "
                               f"{grace:g}s; its watchdog rolls back to {previous}")
    now = (await activate.probe(session)).current
    await activate.cleanup(session, token)
    if outcome == "0" and now == previous:
        raise RolledBackError(f"{spec.name}: no confirmation within {s.confirm_timeout:g}s after {what} "
                              f"(SSH was cut off); the target rolled itself back to {previous}", previous=previous)
    raise ProviderError(f"{spec.name}: the target's own rollback to {previous} failed (exit {outcome}); "
                        f"it is at {now}")
