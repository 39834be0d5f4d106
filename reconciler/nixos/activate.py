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

# $1 state dir, $2 token, $3 previous system, $4 activation timeout (s), $5 window (s), $6 profile.
# It looks for the end of the activation twice a second (a cheap loop: no process but `sleep`).
WATCHDOG = """
d="$1"; t="$2"; prev="$3"; left=$(( $4 * 2 ))
while [ ! -e "$d/$t.activated" ] && [ "$left" -gt 0 ]; do
  if [ -e "$d/$t.decided" ]; then rm -rf "$d/$t".*; exit 0; fi
  sleep 0.5; left=$(( left - 1 ))
done
sleep "$5"
if mkdir "$d/$t.decided" 2>/dev/null; then
  { nix-env -p "$6" --set "$prev" && "$prev/bin/switch-to-configuration" switch; } >"$d/$t.rollback.log" 2>&1
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

# Before the switch, in one command: note where /run/current-system points and whether systemd runs, set the
# profile, and arm the watchdog (detached: a transient systemd unit, or a new session on plain hosts) when there
# is a different previous system to return to.
# $1 new system, $2 profile, $3 "1" to guard with a watchdog, $4 state dir, $5 token, $6 activation timeout,
# $7 window, $8 the watchdog script
PREPARE = """
new="$1"; profile="$2"
prev=$(readlink -f /run/current-system 2>/dev/null) || prev=""
case "$prev" in /nix/store/*) ;; *) prev="" ;; esac
if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1; then init=systemd; else init=plain; fi
echo "prev=$prev"
echo "init=$init"
nix-env -p "$profile" --set "$new" >&2 || { echo "setting the system profile failed" >&2; exit 90; }
if [ "$3" = 1 ] && [ -n "$prev" ] && [ "$prev" != "$new" ]; then
  mkdir -p "$4" || exit 91
  if [ "$init" = systemd ]; then
    systemd-run --quiet --collect --unit="reconciler-watchdog-$5" --setenv=PATH="$PATH" -- \
      sh -c "$8" sh "$4" "$5" "$prev" "$6" "$7" "$profile" >&2 || exit 91
  else
    setsid sh -c "$8" sh "$4" "$5" "$prev" "$6" "$7" "$profile" </dev/null >/dev/null 2>&1 &
  fi
  echo "watchdog=$5"
fi
"""

# After the switch, over a new connection, in one command: take the decision from the watchdog (when there is
# one) and read /run/current-system. $1 state dir, $2 token or ""
CONFIRM = """
if [ -n "$2" ]; then
  if mkdir "$1/$2.decided" 2>/dev/null; then echo "decided=ours"; else echo "decided=theirs"; fi
fi
echo "current=$(readlink -f /run/current-system 2>/dev/null)"
"""

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


@dataclass(frozen=True)
class Prepared:
    previous: str | None  # where /run/current-system pointed before
    systemd: bool
    token: str  # the armed watchdog's token, "" when none was armed


def _fields(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


async def prepare(session: Session, toplevel: str, *, guard: bool, activation_timeout: float,
                  window: float) -> Prepared:
    """Set the profile to `toplevel` and, with `guard`, arm the magic-rollback watchdog (one command)."""
    token = new_token()
    out = await session.run(_sh(PREPARE, toplevel, SYSTEM_PROFILE, "1" if guard else "0", STATE_DIR, token,
                                str(math.ceil(activation_timeout)), f"{window:g}", WATCHDOG),
                            check=True, what="setting the system profile and arming the rollback watchdog")
    fields = _fields(out.stdout)
    previous = fields.get("prev") or None
    return Prepared(previous, fields.get("init") == "systemd", fields.get("watchdog", ""))


@dataclass(frozen=True)
class Confirmed:
    ours: bool  # we took the decision (or there was no watchdog); False: the watchdog rolled back
    current: str | None


async def confirm(session: Session, token: str) -> Confirmed:
    out = await session.run(_sh(CONFIRM, STATE_DIR, token), check=True, what="confirming the activation")
    fields = _fields(out.stdout)
    return Confirmed(fields.get("decided", "ours") == "ours", fields.get("current") or None)


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
