"""Webhook acknowledgement throughput and latency: funrun's Telegram webhook vs a bare endpoint.

Both servers run as single uvicorn processes on loopback in the same run; the webhook stores every
update in PostgreSQL and enqueues its conversation on Redis before answering (no worker consumes
them). The load comes from wrk (Debian package `wrk`, a native load generator, so the client is not
the bottleneck) when it is installed: 64 connections (Telegram keeps up to 40 in flight per bot),
every request a new update from one of 5,000 chats; the ceiling is a bare FastAPI endpoint that
parses the same JSON body. Without wrk, a Python client with 16 connections is used (and says so).
Run with `make bench` (throwaway PostgreSQL + Redis); results go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bench._report import machine, write_section

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-webhook-secret"
CONCURRENCY = 16
WARMUP_SECONDS = 0.5
RUN_SECONDS = 3.0


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ceiling: an ASGI endpoint that reads the body and answers 200."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"ok":true}'})


def bare_fastapi() -> Any:
    """The ceiling with wrk: FastAPI reading and parsing the same JSON body, then 200."""
    app = FastAPI()

    @app.get("/")
    async def root() -> JSONResponse:
        return JSONResponse({"ok": True})

    @app.post("/webhooks/telegram")
    async def hook(request: Request) -> JSONResponse:
        payload = json.loads(await request.body())
        return JSONResponse({"ok": bool(payload)})

    return app


WRK_CONNECTIONS = 64
WRK_SECONDS = 10
WRK_LUA = """
local counter = 0
local tid = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  tid = tonumber(wrk.thread:get("tid"))
end
function request()
  counter = counter + 1
  local id = BASE + tid * 10000000 + counter
  local chat = 1000000 + id % 5000
  local body = string.format('{"update_id":%d,"message":{"message_id":%d,"from":{"id":%d,' ..
    '"is_bot":false,"first_name":"Bench"},"chat":{"id":%d,"type":"private","first_name":' ..
    '"Bench"},"date":1767225600,"text":"halo"}}', id, id % 1000000, chat, chat)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["X-Telegram-Bot-Api-Secret-Token"] = "SECRET"}, body)
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %f %f %f %f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.duration / 1e6))
end
"""


PROFILE = "--profile" in sys.argv  # py-spy (on PATH) records the webhook server's measured run


def _spy(pid: int, seconds: int) -> tuple[subprocess.Popen[bytes], Path] | None:
    import tempfile

    if not PROFILE or not shutil.which("py-spy"):
        return None
    out = Path(tempfile.mkstemp(suffix=".txt")[1])
    args = ["py-spy", "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "100"]
    args += ["--format", "raw", "--output", str(out), "--nonblocking"]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out


def _print_profile(spy: tuple[subprocess.Popen[bytes], Path] | None) -> None:
    from bench._rush_check import top_frames

    if spy is None:
        return
    spy[0].wait(timeout=60)
    print("profile (py-spy, inclusive share of all samples):")
    for frame, share in top_frames(spy[1], limit=20):
        print(f"  {share:5.1f} % {frame}")
    spy[1].unlink()


def _measure_wrk(target: str, path: str, code: Path = ROOT) -> dict[str, float]:
    """wrk against ``target`` for WRK_SECONDS after a 2 s warm-up; requests, req/s, p50/p95/p99."""
    import tempfile

    proc, base = _serve(target, factory=True, code=code)
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    spy = None
    try:
        results = {}
        for seconds in (2, WRK_SECONDS):
            if seconds == WRK_SECONDS and target.startswith("app."):
                spy = _spy(proc.pid, seconds)
            lua = WRK_LUA.replace("BASE", str(int(time.time() * 1000) % 10**12 * 100))
            script.write_text(lua.replace("SECRET", SECRET))
            out = subprocess.run(
                [
                    "wrk",
                    "-t2",
                    f"-c{WRK_CONNECTIONS}",
                    f"-d{seconds}s",
                    "--timeout",
                    "10s",
                    "-s",
                    str(script),
                    base + path,
                ],  # fmt: skip
                capture_output=True,
                text=True,
                check=True,
                timeout=seconds + 60,
            ).stdout
            fields = next(x for x in out.splitlines() if x.startswith("RESULT")).split()[1:]
            requests, errors, p50, p95, p99, duration = (float(f) for f in fields)
            results = {"requests": requests, "errors": errors, "rps": requests / duration,
                       "p50": p50, "p95": p95, "p99": p99}  # fmt: skip
    finally:
        _print_profile(spy)
        proc.terminate()
        proc.wait(timeout=10)
        script.unlink()
    return results


OPEN_RATE = 500
OPEN_SECONDS = 10


def _tg_body(base: int) -> Any:
    def body(i: int) -> bytes:
        update = base + i
        chat = 1_000_000 + update % 5000
        return json.dumps(
            {
                "update_id": update,
                "message": {
                    "message_id": update % 1_000_000,
                    "from": {"id": chat, "is_bot": False, "first_name": "Bench"},
                    "chat": {"id": chat, "type": "private", "first_name": "Bench"},
                    "date": 1767225600,
                    "text": "halo",
                },
            }
        ).encode()

    return body


def _measure_open_loop(target: str, path: str, code: Path = ROOT) -> dict[str, float]:
    """A constant OPEN_RATE req/s for OPEN_SECONDS (after 2 s at that rate): latency from due time."""
    from bench import open_loop

    proc, base = _serve(target, factory=True, code=code)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    try:
        first = int(time.time() * 1000) % 10**12 * 100 + 5 * 10**9
        open_loop.run(base + path, _tg_body(first), rate=OPEN_RATE, seconds=2, headers=headers)
        cpu = time.process_time()
        result = open_loop.run(
            base + path, _tg_body(first + 10**6), rate=OPEN_RATE, seconds=OPEN_SECONDS,
            headers=headers,
        )  # fmt: skip
        cpu = time.process_time() - cpu
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {**vars(result), "client_cpu": cpu / OPEN_SECONDS}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _arg(name: str) -> str | None:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv[:-1] else None


# --compare DIR: also measure the webhook of the code checked out in DIR (e.g. `git archive` of
# the commit before a change), in the same run, against the same database and Redis.
COMPARE = _arg("--compare")


def _serve(target: str, *, factory: bool, code: Path = ROOT) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    args = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port)]
    args += ["--log-level", "warning", "--no-access-log"] + (["--factory"] if factory else [])
    env = {**os.environ, "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_BOT_TOKEN": "1:bench"}
    env["PYTHONPATH"] = str(code)
    proc = subprocess.Popen(args, cwd=code, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a loaded machine imports slowly
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/", timeout=0.5)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{target} did not start")


def _update(update_id: int) -> dict[str, Any]:
    chat = 1_000_000 + update_id % 200
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": {"id": chat, "is_bot": False, "first_name": "Bench"},
            "chat": {"id": chat, "type": "private", "first_name": "Bench"},
            "date": 1767225600,
            "text": "halo",
        },
    }


async def _load(url: str, ids: itertools.count[int]) -> tuple[int, list[float]]:
    """Post updates with CONCURRENCY clients for RUN_SECONDS (after a warm-up); return stats."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    latencies: list[float] = []
    errors = 0

    async def client_loop(client: httpx.AsyncClient, until: float, record: bool) -> None:
        nonlocal errors
        while time.perf_counter() < until:
            began = time.perf_counter()
            response = await client.post(url, json=_update(next(ids)), headers=headers)
            if response.status_code != 200:
                errors += 1
            elif record:
                latencies.append(time.perf_counter() - began)

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        for seconds, record in ((WARMUP_SECONDS, False), (RUN_SECONDS, True)):
            until = time.perf_counter() + seconds
            await asyncio.gather(*(client_loop(client, until, record) for _ in range(CONCURRENCY)))
    return errors, latencies


def _measure(target: str, path: str, *, factory: bool) -> dict[str, float]:
    proc, base = _serve(target, factory=factory)
    try:
        errors, latencies = asyncio.run(
            _load(base + path, itertools.count(int(time.time() * 1000)))
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if errors:
        raise RuntimeError(f"{target}: {errors} non-200 answers")
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / RUN_SECONDS,
        "p50": cuts[49] * 1000,
        "p99": cuts[98] * 1000,
    }


def _write(webhook: dict[str, float], bare: dict[str, float]) -> None:
    ratio = webhook["rps"] / bare["rps"]
    write_section(
        "webhook_ack",
        [
            "## Webhook acknowledgement (bench/webhook_ack.py)",
            "",
            f"Machine: {machine()}. Loopback; {CONCURRENCY} concurrent clients for {RUN_SECONDS:.0f} s "
            "after a warm-up; each server is one uvicorn process; the load generator shares the machine.",
            "",
            "| endpoint | requests | req/s | p50 ms | p99 ms |",
            "|---|---|---|---|---|",
            f"| bare uvicorn 200 (ceiling) | {bare['requests']:.0f} | {bare['rps']:.0f} | {bare['p50']:.2f} | {bare['p99']:.2f} |",
            f"| POST /webhooks/telegram (PostgreSQL insert + Redis enqueue, ack after commit) | {webhook['requests']:.0f} | {webhook['rps']:.0f} | {webhook['p50']:.2f} | {webhook['p99']:.2f} |",
            "",
            f"Ratio webhook / ceiling: **{ratio:.2f}** of the bare endpoint's throughput.",
        ],
    )


def _migrate() -> None:
    from alembic.config import Config

    from alembic import command
    from core.config import get_settings

    url = get_settings().database_url
    if not url.startswith("postgresql") or not url.rsplit("/", 1)[-1].endswith("_test"):
        raise SystemExit("bench needs a throwaway PostgreSQL database (*_test): run `make bench`")
    if not get_settings().redis_url:
        raise SystemExit("bench needs REDIS_URL: run `make bench`")
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["url"] = url
    command.upgrade(config, "head")


def main() -> None:
    _migrate()
    if shutil.which("wrk"):
        bare = _measure_wrk("bench.webhook_ack:bare_fastapi", "/webhooks/telegram")
        webhook = _measure_wrk("app.main:create_app", "/webhooks/telegram")
        open_bare = _measure_open_loop("bench.webhook_ack:bare_fastapi", "/webhooks/telegram")
        open_hook = _measure_open_loop("app.main:create_app", "/webhooks/telegram")
        before = None
        if COMPARE:
            old = Path(COMPARE).resolve()
            before = (
                _measure_wrk("app.main:create_app", "/webhooks/telegram", code=old),
                _measure_open_loop("app.main:create_app", "/webhooks/telegram", code=old),
            )
            print(
                f"before ({old.name}): wrk {before[0]['rps']:.0f} req/s, p99 {before[0]['p99']:.0f} ms"
            )
        _write_wrk(webhook, bare, open_bare, open_hook, before)
        for label, r in (
            ("bare", open_bare),
            ("webhook", open_hook),
            *([("webhook before", before[1])] if before else []),
        ):
            print(
                f"open loop {label} at {r['rate']:.0f}/s: {r['achieved']:.0f}/s answered, "
                f"errors {r['errors']:.0f}, p50 {r['p50']:.1f} p99 {r['p99']:.1f} ms, "
                f"late starts {r['late_starts']:.0f}, client CPU {r['client_cpu']:.0%} of a core"
            )
    else:
        bare = _measure("bench.webhook_ack:bare_app", "/", factory=False)
        webhook = _measure("app.main:create_app", "/webhooks/telegram", factory=True)
        _write(webhook, bare)
    print(f"bare: {bare['rps']:.0f} req/s p50 {bare['p50']:.2f} ms p99 {bare['p99']:.2f} ms")
    print(
        f"webhook: {webhook['rps']:.0f} req/s p50 {webhook['p50']:.2f} ms p99 {webhook['p99']:.2f} ms"
    )
    print(f"ratio: {webhook['rps'] / bare['rps']:.2f}; errors {webhook.get('errors', 0):.0f}")


def _write_wrk(
    webhook: dict[str, float],
    bare: dict[str, float],
    open_bare: dict[str, float],
    open_hook: dict[str, float],
    before: tuple[dict[str, float], dict[str, float]] | None = None,
) -> None:
    ratio = webhook["rps"] / bare["rps"]
    open_rows = [("bare FastAPI endpoint (generator check)", open_bare),
                 ("POST /webhooks/telegram", open_hook)]  # fmt: skip
    if before:
        open_rows.append(("POST /webhooks/telegram, code before (--compare)", before[1]))
    rows = [
        ("bare FastAPI endpoint parsing the same JSON (ceiling)", bare),
        ("POST /webhooks/telegram (PostgreSQL + Redis enqueue, ack after commit)", webhook),
    ]
    if before:
        rows.append(("POST /webhooks/telegram, code before (--compare)", before[0]))
    write_section(
        "webhook_ack",
        [
            "## Webhook acknowledgement (bench/webhook_ack.py, wrk)",
            "",
            f"Machine: {machine()}. Loopback; wrk, 2 threads, {WRK_CONNECTIONS} connections for "
            f"{WRK_SECONDS} s after a 2 s warm-up, every request a new update from one of 5,000 "
            "chats; each server is one uvicorn process; wrk shares the 2 cores.",
            "",
            "| endpoint | requests | errors | req/s | p50 ms | p95 ms | p99 ms |",
            "|---|---|---|---|---|---|---|",
            *(
                f"| {label} | {r['requests']:.0f} | {r['errors']:.0f} | {r['rps']:.0f} | {r['p50']:.1f} | "
                f"{r['p95']:.1f} | {r['p99']:.1f} |"
                for label, r in rows
            ),
            "",
            f"Ratio webhook / ceiling: **{ratio:.2f}** of the bare endpoint's throughput.",
            "",
            f"Open loop (bench/open_loop.py): a constant {OPEN_RATE} req/s for {OPEN_SECONDS} s "
            "after 2 s at that rate, 64 keep-alive connections, latency from each request's due "
            "time (no coordinated omission); the generator's own CPU is shown.",
            "",
            "| endpoint | asked req/s | answered req/s | errors | late starts | p50 ms | p95 ms "
            "| p99 ms | max ms | generator CPU |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *(
                f"| {label} | {r['rate']:.0f} | {r['achieved']:.0f} | {r['errors']:.0f} | "
                f"{r['late_starts']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
                f"{r['max']:.1f} | {r['client_cpu']:.0%} |"
                for label, r in open_rows
            ),
        ],
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
