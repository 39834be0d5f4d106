"""A delaying TCP relay, for link delay on kernels without `tc netem`: it listens on the host's address, port
22, forwards each connection to the sshd on the namespace's loopback, and holds every chunk of data for the
delay in each direction, in order. A request/response exchange then costs one round trip of twice the delay,
as over a netem link; bandwidth is not limited. Run inside the host's network namespace:

    python -m reconciler.sandbox.relay LISTEN_ADDRESS TARGET_ADDRESS DELAY_MS
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

PORT = 22
CHUNK = 1 << 16


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
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
            queue.put_nowait((loop.time() + delay, data))
            if not data:
                break
        await sender
    except (OSError, asyncio.IncompleteReadError):
        sender.cancel()


async def _serve(listen: str, target: str, delay: float) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(target, PORT)
        except OSError:
            client_w.close()
            return
        try:
            await asyncio.gather(_pipe(client_r, server_w, delay), _pipe(server_r, client_w, delay))
        finally:
            for w in (client_w, server_w):
                with contextlib.suppress(OSError):
                    w.close()

    server = await asyncio.start_server(handle, listen, PORT, reuse_address=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str]) -> None:
    listen, target, delay_ms = argv[0], argv[1], float(argv[2])
    asyncio.run(_serve(listen, target, delay_ms / 1000.0))


if __name__ == "__main__":
    main(sys.argv[1:])
