"""What runs on the target during an update: set the system profile, arm the magic-rollback watchdog, run
`switch-to-configuration boot` then `switch` (under `systemd-run` where the target has systemd, so a dropped SSH
link does not kill the switch), confirm over a NEW connection, and roll back to the previous generation.

The watchdog and the reconciler race for one atomic `mkdir $token.decided` under /run/reconciler: the watchdog
takes it (and rolls back) when the confirmation window passes; the reconciler takes it to confirm, or to roll
back itself after a failed activation or health check. Exactly one of them decides. A watchdog that lost the
race removes its files itself; one that rolled back leaves its outcome for the reconciler to read and remove.
Every script here is a fixed text; values reach it only as positional arguments of `sh -c SCRIPT sh ARGS...`."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from reconciler.errors import CommandError
from reconciler.nixos.machine import SYSTEM_PROFILE
from reconciler.nixos.ssh import Output, Session

STATE_DIR = "/run/reconciler"

PROBE = """
readlink -f /run/current-system 2>/dev/null || echo
if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1; then echo systemd; else echo plain; fi
"""

# $1 state dir, $2 token, $3 previous system, $4 activation timeout (s), $5 window (s), $6 poll (s), $7 profile
WATCHDOG = """
d="$1"; t="$2"; prev="$3"
end=$(( $(date +%s) + $4 ))
while [ ! -e "$d/$t.activated" ] && [ "$(date +%s)" -lt "$end" ]; do
  if [ -e "$d/$t.decided" ]; then rm -rf "$d/$t".*; exit 0; fi
  sleep "$6"
done
sleep "$5"
if mkdir "$d/$t.decided" 2>/dev/null; then
  { nix-env -p "$7" --set "$prev" && "$prev/bin/switch-to-configuration" switch; } >"$d/$t.rollback.log" 2>&1
  echo $? > "$d/$t.rolledback"
else
  rm -rf "$d/$t".*
fi
"""

# $1 new system, $2 state dir, $3 token ("" when no watchdog)
ACTIVATE = """
"$1/bin/switch-to-configuration" boot && "$1/bin/switch-to-configuration" switch
rc=$?
if [ "$rc" -eq 0 ] && [ -n "$3" ]; then touch "$2/$3.activated"; fi
exit "$rc"
"""

# run "$@" detached from this SSH session: a transient systemd unit, or a new session on plain hosts
DETACH_SYSTEMD = 'u="$1"; shift; exec systemd-run --quiet --collect --unit="$u" --setenv=PATH="$PATH" -- "$@"'
DETACH_PLAIN = 'setsid "$@" </dev/null >/dev/null 2>&1 &'
# run "$@" in a transient unit and wait for it, its output piped back
ATTACHED_SYSTEMD = ('u="$1"; shift; exec systemd-run --quiet --collect --wait --pipe --service-type=exec '
                    '--unit="$u" --setenv=PATH="$PATH" -- "$@"')


def _sh(script: str, *args: str) -> list[str]:
    return ["sh", "-c", script, "sh", *args]


@dataclass(frozen=True)
class Probe:
    current: str | None  # where /run/current-system points now
    systemd: bool


async def probe(session: Session) -> Probe:
    out = await session.run(_sh(PROBE), check=True, what="reading /run/current-system")
    lines = [*out.stdout.splitlines(), "", ""]
    current = lines[0].strip()
    return Probe(current if current.startswith("/nix/store/") else None, lines[1].strip() == "systemd")


async def set_profile(session: Session, toplevel: str) -> None:
    await session.run(["nix-env", "-p", SYSTEM_PROFILE, "--set", toplevel], check=True,
                      what="setting the system profile")


def new_token() -> str:
    return "deploy-" + secrets.token_hex(6)


async def arm_watchdog(session: Session, token: str, previous: str, *, systemd: bool, activation_timeout: float,
                       window: float, poll: float) -> None:
    await session.run(["mkdir", "-p", STATE_DIR], check=True, what="preparing the rollback watchdog")
    watchdog = _sh(WATCHDOG, STATE_DIR, token, previous, str(math.ceil(activation_timeout)), f"{window:g}",
                   f"{poll:g}", SYSTEM_PROFILE)
    argv = _sh(DETACH_SYSTEMD, f"reconciler-watchdog-{token}", *watchdog) if systemd else _sh(DETACH_PLAIN, *watchdog)
    await session.run(argv, check=True, what="starting the rollback watchdog")


async def switch(session: Session, toplevel: str, token: str, *, systemd: bool, timeout: float) -> Output:
    """switch-to-configuration boot, then switch; returns the output (the caller judges the exit code)."""
    argv = _sh(ACTIVATE, toplevel, STATE_DIR, token)
    if systemd:
        argv = _sh(ATTACHED_SYSTEMD, f"reconciler-switch-{token or new_token()}", *argv)
    return await session.run(argv, timeout=timeout, what="switch-to-configuration")


async def decide(session: Session, token: str) -> bool:
    """Take the decision from the watchdog; False when it already decided (it rolled back or is doing so)."""
    out = await session.run(["mkdir", f"{STATE_DIR}/{token}.decided"])
    return out.ok


async def watchdog_outcome(session: Session, token: str) -> str | None:
    """The watchdog's rollback exit status ("0" = rolled back) once it finished, else None."""
    out = await session.run(["cat", f"{STATE_DIR}/{token}.rolledback"])
    return out.stdout.strip() if out.ok else None


async def cleanup(session: Session, token: str) -> None:
    """Remove what a watchdog left after rolling back (only then: a live watchdog cleans up after itself)."""
    await session.run(_sh('rm -rf "$1/$2".*', STATE_DIR, token))


async def rollback(session: Session, previous: str, *, systemd: bool, timeout: float) -> None:
    """Switch back to `previous`: the profile, then its switch-to-configuration; verified afterwards."""
    await set_profile(session, previous)
    argv = [f"{previous}/bin/switch-to-configuration", "switch"]
    if systemd:
        argv = _sh(ATTACHED_SYSTEMD, f"reconciler-rollback-{new_token()}", *argv)
    out = await session.run(argv, timeout=timeout, what="switch-to-configuration (rollback)")
    now = (await probe(session)).current
    if not out.ok or now != previous:
        raise CommandError(f"rolling back {session.endpoint} to {previous} failed (now at {now})",
                           argv=argv, exit_code=out.exit_code, stderr=out.stderr[-2000:])


async def health_check(session: Session, command: str, timeout: float) -> Output:
    try:
        return await session.run(["sh", "-c", command], timeout=timeout, what="health check")
    except CommandError as exc:  # timed out
        return Output(("sh", "-c", command), 124, "", exc.message)
