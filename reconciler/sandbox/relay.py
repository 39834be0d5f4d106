"""A delaying TCP relay, for link delay on kernels without `tc netem`: it listens on the host's address, port
22, forwards each connection to the sshd on the namespace's loopback, and holds every chunk of data for the
delay in each direction, in order. A request/response exchange then costs one round trip of twice the delay,
as over a netem link; bandwidth is not limited. It also counts round trips: each time the server answers after
the client spoke (summed over connections, written to STATS_FILE when given). Run inside the host's network
namespace:

    python -m reconciler.sandbox.relay LISTEN_ADDRESS TARGET_ADDRESS DELAY_MS [STATS_FILE]
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable

PORT = 22
CHUNK = 1 << 16


class Turns:
    """Round trips seen: a turn is the server speaking after the client did, on one connection."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.total = 0

    def count(self) -> None:
        self.total += 1
        if self.path:
            with open(self.path, "w") as fh:
                fh.write(f"{self.total}\n")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float,
                on_data: Callable[[], None] = lambda: None) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                with contextlib.suppress(OSError):
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(deliver())
    try:
        while True:
            data = await reader.read(CHUNK)
            if data:
                on_data()
            queue.put_nowait((loop.time() + delay, data))
            if not data:
                break
        await sender
    except (OSError, asyncio.IncompleteReadError):
        sender.cancel()


async def _serve(listen: str, target: str, delay: float, turns: Turns) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(target, PORT)
        except OSError:
            client_w.close()
            return
        last = ["server"]  # who spoke last on this connection (sshd speaks first: its banner)

        def spoke(side: str) -> None:
            if side == "server" and last[0] == "client":
                turns.count()
            last[0] = side

        try:
            await asyncio.gather(_pipe(client_r, server_w, delay, lambda: spoke("client")),
                                 _pipe(server_r, client_w, delay, lambda: spoke("server")))
        finally:
            for w in (client_w, server_w):
                with contextlib.suppress(OSError):
                    w.close()

    server = await asyncio.start_server(handle, listen, PORT, reuse_address=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str]) -> None:
    listen, target, delay_ms = argv[0], argv[1], float(argv[2])
    asyncio.run(_serve(listen, target, delay_ms / 1000.0, Turns(argv[3] if len(argv) > 3 else None)))


if __name__ == "__main__":
    main(sys.argv[1:])
