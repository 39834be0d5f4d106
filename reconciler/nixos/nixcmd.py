"""Local nix and helper processes: argument lists in, (exit code, stdout, stderr) out, never a shell.
Every nix call turns on the `nix-command` and `flakes` features, and failures become CommandError with the
command, its exit code and the tail of its stderr."""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.errors import CommandError, ProviderError

if TYPE_CHECKING:
    import asyncio

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


def nix_error(stderr: str) -> str | None:
    """nix's own error out of its output: the innermost `error: ...` line (its cause, where nix nests the
    frames `… while evaluating ...` above it), never the `(use '--show-trace' ...)` hint; None if nix said none."""
    found = None
    for line in stderr.splitlines():
        text = line.strip()
        if text.startswith("error:") and text[len("error:"):].strip():
            found = text[len("error:"):].strip()
    return found


def failure(what: str, result: Result) -> CommandError:
    tail = stderr_tail(result.stderr)
    kept = [ln for ln in tail.splitlines() if "--show-trace" not in ln]
    last = nix_error(result.stderr) or (kept[-1].strip() if kept else f"exit code {result.exit_code}")
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

    async def run(self, args: Sequence[str], extra_env: Mapping[str, str] | None = None,
                  timeout: float | None = None) -> Result:
        return await run_process(self.argv(*args), env=self.environ(extra_env), timeout=timeout)


async def run_process(argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | None = None,
                      timeout: float | None = None) -> Result:
    """Run a local process to completion (killed on timeout or cancellation)."""
    import asyncio  # here, as in the Builder: a plan runs nix synchronously and never starts an event loop

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


def built_outputs(result: Result) -> set[str]:
    """The `out` paths a successful `nix build --json` printed."""
    try:
        return {str(item["outputs"]["out"]) for item in json.loads(result.stdout)}
    except (ValueError, KeyError, TypeError):
        raise CommandError("nix build printed no output paths", argv=result.argv,
                           stderr=result.stdout[:300]) from None


def check_built(result: Result, name: str, installable: str, toplevel: str) -> None:
    built = built_outputs(result)
    if toplevel not in built:
        raise ProviderError(f"{installable} now builds {', '.join(sorted(built))}, but the plan for {name} said "
                            f"{toplevel}", hint="the flake changed since the plan was made; plan again")


class Builder:
    """Local builds of machines updated together go into ONE `nix build` (each flake evaluated once for all):
    requests arriving within `window` seconds are batched; when the batch fails, each is retried alone so that
    every error lands on its own machine."""

    def __init__(self, tool: NixTool, *, window: float = 0.01, timeout: float | None = None) -> None:
        self.tool = tool
        self.window = window
        self.timeout = timeout
        self.processes = 0  # nix build processes started (for tests and benchmarks)
        self._pending: list[tuple[str, str, str, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def build(self, installable: str, toplevel: str, name: str) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        if self._flusher is not None and self._flusher.get_loop() is not loop:
            self._flusher, self._pending = None, []  # left over from an earlier event loop
        future: asyncio.Future[None] = loop.create_future()
        self._pending.append((installable, toplevel, name, future))
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        import asyncio

        await asyncio.sleep(self.window)
        batch, self._pending, self._flusher = self._pending, [], None
        installables = sorted({inst for inst, _, _, _ in batch})
        done: set[str] = set()
        if len(batch) > 1:
            self.processes += 1
            result = await self.tool.run(["build", "--no-link", "--json", "--keep-going", *installables],
                                         timeout=self.timeout)
            if result.ok:
                done = built_outputs(result)
        for inst, toplevel, name, future in batch:
            if future.done():
                continue
            if toplevel in done:
                future.set_result(None)
                continue
            try:
                self.processes += 1
                single = await self.tool.run(["build", "--no-link", "--json", inst], timeout=self.timeout)
                if not single.ok:
                    raise failure(f"building the system of {name}", single)
                check_built(single, name, inst, toplevel)
                future.set_result(None)
            except Exception as exc:
                future.set_exception(exc)
