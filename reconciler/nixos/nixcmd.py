"""Local nix and helper processes: argument lists in, (exit code, stdout, stderr) out, never a shell.
Every nix call turns on the `nix-command` and `flakes` features, and failures become CommandError with the
command, its exit code and the tail of its stderr."""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler.errors import CommandError

FEATURES = ("--extra-experimental-features", "nix-command flakes")


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def stderr_tail(text: str, lines: int = 6) -> str:
    kept = [ln for ln in text.strip().splitlines() if ln.strip()]
    return "\n".join(kept[-lines:])


def failure(what: str, result: Result) -> CommandError:
    tail = stderr_tail(result.stderr)
    last = tail.splitlines()[-1] if tail else f"exit code {result.exit_code}"
    return CommandError(f"{what}: {last}", argv=result.argv, exit_code=result.exit_code, stderr=tail)


@dataclass(frozen=True)
class NixTool:
    """Where `nix` is and the environment it runs in."""

    nix: str = "nix"
    env: Mapping[str, str] | None = None

    def argv(self, *args: str) -> list[str]:
        return [self.nix, *FEATURES, *args]

    def environ(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if self.env is None else self.env)
        env.update(extra or {})
        return env

    def run_sync(self, args: Sequence[str], extra_env: Mapping[str, str] | None = None) -> Result:
        argv = self.argv(*args)
        proc = subprocess.run(argv, capture_output=True, text=True, env=self.environ(extra_env),
                              stdin=subprocess.DEVNULL)
        return Result(tuple(argv), proc.returncode, proc.stdout, proc.stderr)

    async def run(self, args: Sequence[str], extra_env: Mapping[str, str] | None = None,
                  timeout: float | None = None) -> Result:
        return await run_process(self.argv(*args), env=self.environ(extra_env), timeout=timeout)


async def run_process(argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | None = None,
                      timeout: float | None = None) -> Result:
    """Run a local process to completion (killed on timeout or cancellation)."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=dict(env) if env is not None else None, cwd=cwd)
    except FileNotFoundError:
        raise CommandError(f"{argv[0]} not found", argv=argv, hint="is it installed and on PATH?") from None
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except (TimeoutError, asyncio.CancelledError):
        proc.kill()
        await proc.wait()
        raise
    return Result(tuple(argv), proc.returncode if proc.returncode is not None else -1,
                  out.decode(errors="replace"), err.decode(errors="replace"))


def display(argv: Sequence[str]) -> str:
    return shlex.join(argv)
