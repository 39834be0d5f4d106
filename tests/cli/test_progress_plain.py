"""Plain progress lines: written at once outside an event loop; inside one, held and written in bursts (at
most `every` seconds after the first held line), and nothing is lost when the apply's `with` block ends."""

from __future__ import annotations

import asyncio
import io

from reconciler.actions import Action
from reconciler.cli.progress import PlainProgress


def test_outside_a_loop_each_line_is_written_at_once() -> None:
    out = io.StringIO()
    progress = PlainProgress(out)
    progress.pre_step("hcloud_server.a", Action.CREATE)
    assert out.getvalue().endswith("hcloud_server.a: create started\n")


def test_inside_a_loop_lines_are_written_in_bursts_and_the_rest_on_leaving() -> None:
    out = io.StringIO()
    seen: list[str] = []

    async def apply(progress: PlainProgress) -> None:
        for i in range(3):
            progress.pre_step(f"hcloud_server.s{i}", Action.CREATE)
        seen.append(out.getvalue())  # nothing yet: held
        await asyncio.sleep(0.05)
        seen.append(out.getvalue())  # the burst after `every`
        progress.on_phase("hcloud_server.s0", "waiting for server 1 (s0) to start")

    with PlainProgress(out, every=0.01) as progress:
        asyncio.run(apply(progress))
        seen.append(out.getvalue())  # the loop ended before the last burst was due
    assert seen[0] == ""
    assert [line.split(" ", 1)[1] for line in seen[1].splitlines()] == [
        f"hcloud_server.s{i}: create started" for i in range(3)]
    assert "waiting for server 1" not in seen[2]
    assert out.getvalue().splitlines()[-1].endswith("hcloud_server.s0: waiting for server 1 (s0) to start")


def test_lines_held_when_one_loop_ended_are_written_by_the_next_loop_s_burst() -> None:
    out = io.StringIO()
    progress = PlainProgress(out, every=0.01)

    async def say(address: str) -> None:
        progress.pre_step(address, Action.CREATE)

    asyncio.run(say("hcloud_server.a"))  # the loop ends before its burst was due: the line is held
    assert out.getvalue() == ""

    async def say_and_wait(address: str) -> None:
        progress.pre_step(address, Action.CREATE)
        await asyncio.sleep(0.05)

    asyncio.run(say_and_wait("hcloud_server.b"))
    assert [line.split(" ", 1)[1] for line in out.getvalue().splitlines()] == [
        "hcloud_server.a: create started", "hcloud_server.b: create started"]
