"""A constant-rate (open-loop) HTTP load generator: wrk2's idea in asyncio over raw sockets.

Request i is due at start + i / rate whether or not earlier answers came back; its latency is
measured from that due time, so a server that falls behind shows the queue it builds
(no coordinated omission). Keep-alive HTTP/1.1 on a fixed set of connections; a request due
while every connection is busy waits for the first free one (and that wait counts). Run
against a bare endpoint first to show the generator itself keeps the pace with a low p99.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Result:
    rate: float  # requested req/s
    sent: int
    answered: int
    errors: int
    achieved: float  # answers per second over the run
    late_starts: int  # requests sent more than 5 ms after their due time (generator or pool lag)
    p50: float
    p95: float
    p99: float
    max: float  # all in ms


def _request(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _run(
    url: str,
    body: Callable[[int], bytes],
    *,
    rate: float,
    seconds: float,
    connections: int,
    headers: dict[str, str],
) -> Result:
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
    free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        free.put_nowait(await asyncio.open_connection(host, port))
    latencies: list[float] = []
    errors = late = 0

    async def one(i: int, due: float) -> None:
        nonlocal errors, late
        reader, writer = await free.get()
        if time.perf_counter() - due > 0.005:
            late += 1
        try:
            writer.write(_request(host, path, body(i), headers))
            status = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            writer.close()
            free.put_nowait(await asyncio.open_connection(host, port))
            return
        latencies.append(time.perf_counter() - due)
        if status != 200:
            errors += 1
        free.put_nowait((reader, writer))

    total = int(rate * seconds)
    start = time.perf_counter()
    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not free.empty():
        free.get_nowait()[1].close()
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return Result(
        rate=rate,
        sent=total,
        answered=len(latencies),
        errors=errors,
        achieved=len(latencies) / elapsed,
        late_starts=late,
        p50=cuts[49] * 1000,
        p95=cuts[94] * 1000,
        p99=cuts[98] * 1000,
        max=max(latencies, default=0.0) * 1000,
    )


def run(
    url: str,
    body: Callable[[int], bytes],
    *,
    rate: float = 500,
    seconds: float = 10,
    connections: int = 64,
    headers: dict[str, str] | None = None,
) -> Result:
    """POST body(i) to ``url`` at ``rate`` requests/s for ``seconds``; latency from each due time."""
    try:
        import uvloop

        runner: Callable[..., Result] = uvloop.run
    except ImportError:  # pragma: no cover
        runner = asyncio.run
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    return runner(
        _run(url, body, rate=rate, seconds=seconds, connections=connections, headers=hdrs)
    )
