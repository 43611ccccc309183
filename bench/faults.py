"""Faults during a steady stream of registrations: one at a time, each with its own verdict.

The rush driver (bench/rush.py) sends registrations through the webhooks at a moderate rate to
`funrun serve` + `funrun worker` processes on PostgreSQL + Redis; at ``--fault-at`` seconds one
fault is injected for ``--duration`` seconds (kills: the replacement starts ``--gap`` s later):

  worker-kill       kill -9 the whole worker process group, start a fresh one
  api-kill          kill -9 the API process, start a fresh one on the same port
  redis-stop        SHUTDOWN SAVE (a Redis with persistence going away), start it again
  postgres-restart  pg_ctl restart -m fast
  telegram-5xx      the fake Telegram answers 429 (retry_after 1) and 502 alternately
  fonnte-false      the fake Fonnte answers {"status": false, "reason": ...}
  media-full        MEDIA_DIR is a small tmpfs, filled for the window: photo senders are told,
                    then space is freed and their resends are stored (needs root for the mount)
  scheduler-stop    the scheduler process killed for ``--scheduler-window`` s (default 600) while
                    expiries, payment reminders and waiting-list holds fall due, then started:
                    each runs once after the restart, none twice, none missed

After recovery, checked automatically: every inbound processed, every registration intact and
never above quota, every due message sent, one final answer per runner; duplicates (a send whose
acceptance was unknowable when a worker died) are counted, not failed; /readyz is polled to see
that it reported the outage (media-full: "media storage nearly full"; scheduler-stop: "scheduler
not running" once its heartbeat is SCHEDULER_MAX_AGE_SECONDS old); "recover" is the time from the fault's end (the replacement's start)
until the last message that was waiting got its answer. `make bench-faults`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bench import _fault_extras as extras
from bench import _rush_check as check
from bench import rush
from bench._report import ROOT, machine, write_section
from bench._rush_fakes import RushFonnte, RushTelegram
from tests.fakes.telegram_api import _error

SCENARIOS = (
    "worker-kill",
    "api-kill",
    "redis-stop",
    "postgres-restart",
    "telegram-5xx",
    "fonnte-false",
    "media-full",
    "scheduler-stop",
)


class FaultyTelegram(RushTelegram):
    failing = False
    _flip = 0

    async def _method(self, request: Request) -> Response:
        if self.failing and request.path_params["method"] in ("sendMessage", "sendPhoto"):
            self._flip += 1
            if self._flip % 2:
                return _error(429, "Too Many Requests: retry after 1", 1)
            return JSONResponse({"ok": False, "error_code": 502, "description": "Bad Gateway"}, 502)
        return await super()._method(request)


class FaultyFonnte(RushFonnte):
    failing = False

    async def _send(self, request: Request) -> Response:
        if self.failing:
            return JSONResponse({"status": False, "reason": "device disconnected"})
        return await super()._send(request)


@dataclass
class Timeline:
    """Absolute times of posts and deliveries per chat, and of the fault."""

    posts: list[tuple[str, float]] = field(default_factory=list)
    arrivals: dict[str, list[float]] = field(default_factory=dict)
    fault_start: float = 0.0
    fault_end: float = 0.0
    ready: list[tuple[float, int]] = field(default_factory=list)

    def recover_seconds(self) -> float:
        """From the fault's end to the answer of the last message posted before it."""
        worst = 0.0
        for key, posted in self.posts:
            if posted > self.fault_end:
                continue
            later = [t for t in self.arrivals.get(key, ()) if t > posted]
            if later and later[0] > self.fault_end:
                worst = max(worst, later[0] - self.fault_end)
        return worst

    def max_wait(self) -> float:
        worst = 0.0
        for key, posted in self.posts:
            later = [t for t in self.arrivals.get(key, ()) if t > posted]
            if later:
                worst = max(worst, later[0] - posted)
        return worst

    def readyz_down(self) -> float:
        """Seconds /readyz answered non-200 from the fault on: each poll's answer holds until the
        next poll (under load a poll takes longer than its 0.25 s period, so counting polls
        under-reports the outage)."""
        polls = [(t, code) for t, code in self.ready if t >= self.fault_start]
        return sum(
            later - t
            for (t, code), (later, _) in zip(polls, polls[1:], strict=False)
            if code != 200
        )


def _track(timeline: Timeline, inbox: rush.Inbox) -> None:
    """Record every post and every delivery with its time (the rush driver stays as it is)."""
    post = rush._post

    async def timed_post(client: Any, base: str, runner: rush.Runner, text: str, uid: int) -> int:
        timeline.posts.append((f"{runner.channel}:{runner.chat}", time.monotonic()))
        # Like the providers, keep re-delivering an unanswered webhook (for up to a minute).
        deadline = time.monotonic() + 60
        while True:
            try:
                code = await post(client, base, runner, text, uid)
            except httpx.HTTPError:
                code = 0
            if code == 200 or time.monotonic() > deadline:
                return code
            await asyncio.sleep(0.5)

    rush._post = timed_post
    on_sent = inbox.on_sent

    def timed_sent(channel: str, chat: str, text: str) -> None:
        timeline.arrivals.setdefault(f"{channel}:{chat}", []).append(time.monotonic())
        on_sent(channel, chat, text)

    inbox.on_sent = timed_sent


def _poll_ready(base: str, timeline: Timeline, stop: threading.Event) -> None:
    while not stop.wait(0.25):
        asked = time.monotonic()
        try:
            code = httpx.get(f"{base}/readyz", timeout=1).status_code
        except httpx.HTTPError:
            code = 0
        timeline.ready.append((asked, code))


# -- the faults ---------------------------------------------------------------------------------


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _pg_ctl(*args: str) -> None:
    runas = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    pg_ctl = Path(os.environ["TEST_PG_BIN"]) / "pg_ctl"
    data = os.environ["TEST_PG_DATA"]
    log = Path(os.environ["TEST_SERVICES_DIR"]) / "pg.log"
    cmd = [*runas, str(pg_ctl), "-D", data, "-l", str(log), "-w", *args]
    subprocess.run(cmd, check=True, capture_output=True)


def _redis(command: str) -> None:
    port, folder = os.environ["TEST_REDIS_PORT"], os.environ["TEST_SERVICES_DIR"]
    if command == "stop":
        subprocess.run(["redis-cli", "-p", port, "shutdown", "save"], capture_output=True)
        return
    subprocess.run(
        ["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--daemonize", "yes", "--pidfile", f"{folder}/redis.pid", "--logfile",
         f"{folder}/redis.log", "--dir", folder],
        check=True,
    )  # fmt: skip
    for _ in range(50):
        if subprocess.run(["redis-cli", "-p", port, "ping"], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)


@dataclass
class Stack:
    """The processes and fakes of one run, so faults can replace them."""

    start_api: Callable[[], subprocess.Popen[bytes]]
    start_worker: Callable[[], subprocess.Popen[bytes]]
    api: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    telegram: FaultyTelegram
    fonnte: FaultyFonnte
    base: str = ""
    env: dict[str, str] = field(default_factory=dict)
    media: Path | None = None
    work: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # what a side workload seeded
    scheduler: subprocess.Popen[bytes] | None = None  # a restarted scheduler (scheduler-stop)


def _inject(name: str, stack: Stack, opts: argparse.Namespace, timeline: Timeline) -> None:
    timeline.fault_start = time.monotonic()
    if name == "worker-kill":
        before = _worker_ids()
        _kill(stack.worker)
        time.sleep(opts.gap)
        stack.worker = stack.start_worker()
        started = time.monotonic()
        timeline.fault_end = started
        stack.extra["boot"] = _first_heartbeat(before, started)
        return
    elif name == "api-kill":
        _kill(stack.api)
        time.sleep(opts.gap)
        stack.api = stack.start_api()
    elif name == "redis-stop":
        _redis("stop")
        time.sleep(opts.duration)
        _redis("start")
    elif name == "postgres-restart":
        _pg_ctl("-m", "fast", "restart")
    elif name in ("telegram-5xx", "fonnte-false"):
        fake = stack.telegram if name == "telegram-5xx" else stack.fonnte
        fake.failing = True
        time.sleep(opts.duration)
        fake.failing = False
    elif name == "media-full":
        _media_full(stack, opts, timeline)
        return
    elif name == "scheduler-stop":
        _scheduler_stop(stack, opts, timeline)
        return
    timeline.fault_end = time.monotonic()


def _worker_ids() -> set[bytes]:
    import redis

    from core.config import get_settings

    client = redis.Redis.from_url(get_settings().redis_url or "")
    return set(client.zrange("dramatiq:__heartbeats__", 0, -1))


def _first_heartbeat(before: set[bytes], started: float) -> float:
    """Seconds from the replacement's start until both its processes (the dramatiq worker and
    the scheduler, each with its own broker id) sent their first broker command: its boot."""
    while time.monotonic() - started < 120:
        if len(_worker_ids() - before) >= 2:
            return time.monotonic() - started
        time.sleep(0.1)
    return float("nan")


def _media_full(stack: Stack, opts: argparse.Namespace, timeline: Timeline) -> None:
    """Fill the media disk, let photo senders meet it, free it, let them resend."""
    assert stack.media is not None
    senders = extras.seed_photo_senders(opts.photo_senders)
    stack.extra["photos"] = senders
    filler = extras.fill(stack.media)
    inbox = stack.extra["inbox"]
    args = (stack.base, rush.WA_SECRET, stack.fonnte, senders, inbox)
    senders.first = extras.send_photos(*args, round_=1, device=rush.DEVICE)
    time.sleep(max(0.0, opts.duration - (time.monotonic() - timeline.fault_start)))
    filler.unlink()
    timeline.fault_end = time.monotonic()
    senders.second = extras.send_photos(*args, round_=2, device=rush.DEVICE)


def _scheduler_stop(stack: Stack, opts: argparse.Namespace, timeline: Timeline) -> None:
    from core.db import utcnow

    if not extras.kill_scheduler(stack.worker.pid):
        raise RuntimeError("no scheduler process found under the worker")
    stack.extra["due"] = due = extras.seed_due_work(opts.due_items, opts.scheduler_window)
    time.sleep(opts.scheduler_window)
    due.restarted_at = utcnow()
    assert stack.work is not None
    stack.scheduler = extras.start_scheduler(stack.env, stack.work / "scheduler.log")
    timeline.fault_end = time.monotonic()
    extras.wait_due(due, 180)


# -- one scenario -------------------------------------------------------------------------------


def run(name: str, opts: argparse.Namespace) -> dict[str, Any]:
    from tests.fakes.server import serve

    ropts = rush.Options(
        runners=opts.runners, burst=0.1, burst_seconds=2.0, ramp_seconds=opts.ramp,
        think=1.0, slots_ratio=0.8, worker_processes=1, worker_threads=4,
    )  # fmt: skip
    slots = int(ropts.runners * ropts.slots_ratio)
    check.prepare(slots=slots, runners=ropts.runners)
    loop = asyncio.new_event_loop()
    inbox, timeline = rush.Inbox(loop, keep_all=True), Timeline()
    _track(timeline, inbox)
    telegram = FaultyTelegram(rush.TG_TOKEN, inbox.on_sent, None)
    fonnte = FaultyFonnte(rush.WA_TOKEN, inbox.on_sent, None)
    work = Path(tempfile.mkdtemp(prefix=f"funrun-fault-{name}-"))
    if name == "media-full":
        extras.mount_tmpfs(work / "media", opts.media_size)
    with serve(telegram.app) as tg_url, serve(fonnte.app) as wa_url:
        fonnte.base_url = wa_url
        env = rush._env(ropts, ROOT, {"telegram": tg_url, "fonnte": wa_url}, work / "media")
        # The media disk is a tiny tmpfs: the default 50 MB free would count as full at once.
        env["MEDIA_MIN_FREE_MB"] = "0.25"
        port = check.free_port()
        base = f"http://127.0.0.1:{port}"
        logs = iter(range(1000))

        def start_api() -> subprocess.Popen[bytes]:
            log = work / f"api{next(logs)}.log"
            proc = rush._spawn(["serve", "--port", str(port)], env, ROOT, log)
            rush._wait_healthy(base, proc, log)
            return proc

        def start_worker() -> subprocess.Popen[bytes]:
            args = ["worker", "--processes", "1", "--threads", "4"]
            return rush._spawn(args, env, ROOT, work / f"worker{next(logs)}.log")

        stack = Stack(start_api, start_worker, start_api(), start_worker(), telegram, fonnte,
                      base=base, env=env, media=work / "media", work=work)  # fmt: skip
        stack.extra["inbox"] = inbox
        stop = threading.Event()
        poller = threading.Thread(target=_poll_ready, args=(base, timeline, stop), daemon=True)
        fault: threading.Timer | None = None
        try:
            time.sleep(3)  # the worker imports and connects
            poller.start()
            fault = threading.Timer(opts.fault_at, _inject, args=(name, stack, opts, timeline))
            fault.start()
            runners, began, errors = loop.run_until_complete(rush._drive(ropts, base, inbox))
            fault.join()
            from core.db import reset_engine

            reset_engine()  # this process's pool may hold connections PostgreSQL dropped
            settled = check.wait_settled(180)
            side = _side_verdict(stack)
        finally:
            stop.set()
            if fault is not None:  # a fault still to come would start processes nobody stops
                fault.cancel()
                fault.join()
            rush._stop(stack.api)
            rush._stop(stack.worker)
            if stack.scheduler is not None:
                rush._stop(stack.scheduler)
            loop.close()
            if name == "media-full":
                extras.unmount(work / "media")
    result = _verdict(name, runners, began, errors, settled, inbox, timeline, slots, work)
    result["side"], broken = side
    result["invariants"] += broken
    return result


def _side_verdict(stack: Stack) -> tuple[dict[str, Any], list[str]]:
    if "boot" in stack.extra:
        return {"replacement_boot_s": stack.extra["boot"]}, []
    if "photos" in stack.extra:
        assert stack.media is not None
        return extras.photo_verdict(stack.extra["photos"], stack.media)
    if "due" in stack.extra:
        return extras.due_verdict(stack.extra["due"])
    return {}, []


def _verdict(name, runners, began, errors, settled, inbox, timeline, slots, work) -> dict[str, Any]:  # noqa: ANN001
    for r in runners:
        r.received = len(inbox.texts.get(f"{r.channel}:{r.chat}", ()))
    result = check.summarise(runners, began, time.monotonic() - began)
    result["delivered"] = sum(len(v) for v in inbox.texts.values())
    broken = check.invariants(result, slots=slots)
    sent = _sent_rows()
    # More deliveries than sent rows: sends repeated because their acceptance was unknowable.
    result["duplicates"] = max(0, result["delivered"] - sent)
    broken = [b for b in broken if "reached the providers" not in b or result["delivered"] < sent]
    result.update(
        scenario=name, settled=settled, ack_errors=errors, invariants=broken,
        recover=timeline.recover_seconds(), max_wait=timeline.max_wait(),
        readyz_down=timeline.readyz_down(), fault_seconds=timeline.fault_end - timeline.fault_start,
        logs=str(work),
    )  # fmt: skip
    return result


def _sent_rows() -> int:
    from sqlalchemy import func, select

    from core.db import get_sessionmaker, reset_engine
    from core.models import OutboundMessage

    reset_engine()  # PostgreSQL may have restarted under the pool
    with get_sessionmaker()() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    OutboundMessage.status == "sent", OutboundMessage.kind != "callback_answer"
                )
            )
            or 0
        )


def line(r: dict[str, Any]) -> str:
    verdict = "OK" if not r["invariants"] else "BROKEN: " + "; ".join(r["invariants"])
    return (
        f"{r['scenario']:<17} fault {r['fault_seconds']:5.1f}s  recover {r['recover']:5.1f}s  "
        f"max wait {r['max_wait']:5.1f}s  readyz down {r['readyz_down']:4.1f}s  "
        f"outcomes {r['outcomes']}  dups {r['duplicates']}  ack errors {r['ack_errors']}  "
        f"{r['side'] or ''}  {verdict}"
    )


def report(opts: argparse.Namespace, results: list[dict[str, Any]]) -> list[str]:
    out = [
        "## Faults during a rush (bench/faults.py, `make bench-faults`)",
        "",
        f"Machine: {machine()}. `python -m bench.faults` ({opts.runners} runners over {opts.ramp:.0f} s "
        f"through the webhooks, 1 API + 1 worker process of 4 threads; fault at {opts.fault_at:.0f} s, "
        f"outages {opts.duration:.0f} s, replacement {opts.gap:.0f} s after a kill).",
        "",
        "| scenario | fault (s) | recover (s) | max wait (s) | /readyz down (s) | registered / sold out / none | duplicates | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        o = r["outcomes"]
        verdict = "ok" if not r["invariants"] else "; ".join(r["invariants"])
        if r.get("side"):
            verdict += " (" + ", ".join(f"{k} {_fmt(v)}" for k, v in r["side"].items()) + ")"
        out.append(
            f"| {r['scenario']} | {r['fault_seconds']:.1f} | {r['recover']:.1f} | {r['max_wait']:.1f} | "
            f"{r['readyz_down']:.1f} | {o.get('registered', 0)} / {o.get('sold_out', 0)} / "
            f"{o.get('none', 0)} | {r['duplicates']} | {verdict} |"
        )
    return out


def _fmt(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--runners", type=int, default=80)
    parser.add_argument("--ramp", type=float, default=40.0, help="seconds over which runners start")
    parser.add_argument("--fault-at", type=float, default=12.0)
    parser.add_argument("--duration", type=float, default=30.0, help="outage length")
    parser.add_argument("--gap", type=float, default=5.0, help="kill to replacement")
    parser.add_argument("--media-size", default="2m", help="media-full: the tmpfs size")
    parser.add_argument("--photo-senders", type=int, default=10, help="media-full: runners")
    parser.add_argument("--scheduler-window", type=float, default=600.0,
                        help="scheduler-stop: seconds the scheduler stays stopped")  # fmt: skip
    parser.add_argument("--due-items", type=int, default=10,
                        help="scheduler-stop: expiries, reminders and holds falling due, each")  # fmt: skip
    parser.add_argument("--write", action="store_true", help="write docs/BENCHMARKS.md")
    opts = parser.parse_args(argv)
    check.require_services()
    results = []
    for name in [s for s in opts.scenarios.split(",") if s]:
        if name not in SCENARIOS:
            raise SystemExit(f"unknown scenario {name!r}; one of {', '.join(SCENARIOS)}")
        results.append(run(name, opts))
        print(line(results[-1]), flush=True)
    if opts.write:
        write_section("faults", report(opts, results))
    return 1 if any(r["invariants"] for r in results) else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
