"""The opening minute through the real webhooks: N runners register at once, replies timed.

`funrun serve` and `funrun worker` run as separate processes on PostgreSQL + Redis (as the README
deploys them); the fake Telegram and Fonnte servers (tests/fakes) listen on loopback in this process,
and so do the runners: asyncio tasks that each post a whole registration to the webhooks, half on
Telegram, half on WhatsApp, waiting for the bot's reply and a think time between answers. Half the
runners start within the opening burst, the rest over the ramp; the category has fewer slots than
runners, so the sell-out is part of every run.

Modes: ``open`` (fakes accept everything, our own pacing lifted: our capacity) and ``limited`` (fakes
answer 429 with retry_after at the providers' limits; our pacing at its defaults).
``--compare REF`` runs the same rush first against the code of git REF (exported to a temporary
directory), then against the working tree, in one run. ``--profile`` samples the API and the
workers with py-spy. Fails (exit 1) when an invariant breaks. `make bench-rush`.

At scale (``--runners 10000``): the bench process is a measured role of its own ("bench": the
runners, the fakes, the sampling), a progress line is printed every ``--progress-seconds``, the
runners' posts pass a gate of ``--connections`` (the providers' webhook connections; httpx's pool
never queues thousands), the inbox keeps only what a runner has not read yet, and a runner still
mid-flow at ``--max-seconds`` counts as "stopped", not as "no answer" (a reply that did not come
within ``--reply-timeout`` while the run went on).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import string
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

try:  # httpcore imports sniffio on every request; absent (anyio 4.16 dropped it), that import
    import sniffio  # noqa: F401  searched sys.path each time: ~15 % of the bench's CPU at 10,000 runners
except ImportError:  # None in sys.modules: a failed import at once, without a search
    sys.modules["sniffio"] = None  # type: ignore[assignment]

from bench import _pace_ideal as ideal
from bench import _rush_check as check
from bench._procstat import Sampler, find_pid
from bench._report import ROOT, machine, write_section
from bench._rush_fakes import Limits, RushFonnte, RushTelegram

TG_TOKEN, TG_SECRET, WA_TOKEN, WA_SECRET = "1:rush", "rush-tg-secret", "rush-wa", "rush-wa-secret"
DEVICE = "628111222333"
CATEGORY = "21K"
REGISTERED = ("Pendaftaran diterima",)
SOLD_OUT = ("sudah habis", "baru saja habis")
FILL = object()  # in a script: fill in the form the bot just sent
FORM_EVERY = 3  # every third runner uses the one-message form ("format pendaftaran")


@dataclass
class Runner:
    n: int
    channel: str  # "telegram" | "whatsapp"
    chat: str
    outcome: str = (
        "none"  # registered | sold_out | none (no reply in time) | stopped (the deadline)
    )
    sent: int = 0
    received: int = 0
    acks: list[float] = field(default_factory=list)
    replies: list[float] = field(default_factory=list)
    done_at: float = 0.0
    form: bool = False  # registers with the one-message form instead of step by step

    def values(self) -> dict[str, str]:
        name = "Pelari " + "".join(string.ascii_lowercase[int(d)] for d in f"{self.n:05d}").title()
        return {
            "category": CATEGORY, "full_name": name, "gender": "P", "date_of_birth": "17-08-1990",
            "email": f"pelari{self.n}@example.com", "phone": f"0813{self.n:08d}",
            "jersey_size": "M", "emergency_name": "Budi Santoso",
            "emergency_phone": "081298765432", "blood_type": "O", "medical_notes": "-",
        }  # fmt: skip

    def script(self) -> list[Any]:
        if self.form:
            return ["DAFTAR", "FORMAT", FILL, "YA"]
        v = self.values()
        phone = [v["phone"]] if self.channel == "telegram" else ["YA"]
        return [
            "DAFTAR", v["category"], v["full_name"], v["gender"], v["date_of_birth"], v["email"],
            *phone, v["jersey_size"], v["emergency_name"], v["emergency_phone"],
            v["blood_type"], v["medical_notes"], "YA",
        ]  # fmt: skip

    def fill(self, sheet: str) -> str:
        """The form as a runner sends it back: each empty "Label (...):" line answered."""
        from flows import form
        from flows.registration import REGISTRATION

        table, values, out = form._label_table(REGISTRATION), self.values(), []  # noqa: SLF001
        for line in sheet.splitlines():
            label, sep, current = line.partition(":")
            key = form._key_for(label, table) if sep else None  # noqa: SLF001
            out.append(f"{label}: {values[key]}" if key in values and not current.strip() else line)
        return "\n".join(out)


class Inbox:
    """What the fakes delivered: a count per chat, the texts its runner has not read yet, a wake-up.

    Texts are kept only until read (a run of 10,000 runners receives ~150,000); chats whose runner
    is done only count.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, *, keep_all: bool = False) -> None:
        self.loop = loop
        self.keep_all = keep_all  # also every text per chat in ``texts`` (the fault runs read them)
        self.texts: dict[str, list[str]] = {}
        self.counts: dict[str, int] = {}
        self.unread: dict[str, list[str]] = {}
        self.done: set[str] = set()
        self.delivered = 0
        self.events: dict[str, asyncio.Event] = {}
        self.sent_at: dict[str, list[float]] = {}  # channel -> monotonic time of each accepted send
        self._lock = threading.Lock()

    def on_sent(self, channel: str, chat: str, text: str) -> None:  # from a server thread
        # Recorded here, not in the loop: sends after the runners finished must count too.
        key = f"{channel}:{chat}"
        with self._lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            self.delivered += 1
            self.sent_at.setdefault(channel, []).append(time.monotonic())
            if self.keep_all:
                self.texts.setdefault(key, []).append(text)
            if key in self.done:
                return
            self.unread.setdefault(key, []).append(text)
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._wake, key)

    def _wake(self, key: str) -> None:
        event = self.events.get(key)
        if event is not None:
            event.set()

    def count(self, key: str) -> int:
        return self.counts.get(key, 0)

    def take(self, key: str) -> list[str]:
        """The texts delivered to ``key`` since the last take."""
        with self._lock:
            return self.unread.pop(key, [])

    def finish(self, key: str) -> None:
        """The runner is done: from now on only count its chat."""
        with self._lock:
            self.done.add(key)
            self.unread.pop(key, None)
        self.events.pop(key, None)

    async def wait_beyond(self, key: str, count: int, timeout: float) -> bool:
        event = self.events.setdefault(key, asyncio.Event())
        deadline = time.monotonic() + timeout
        while self.counts.get(key, 0) <= count:
            event.clear()
            if self.counts.get(key, 0) > count:  # arrived between the check and the clear
                break
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(event.wait(), left)
            except TimeoutError:
                return self.counts.get(key, 0) > count
        return True


@dataclass
class Options:
    runners: int = 2000
    burst: float = 0.5
    burst_seconds: float = 5.0
    ramp_seconds: float = 60.0
    think: float = 1.0
    slots_ratio: float = 0.6
    mode: str = "open"
    serve_workers: int = 1
    worker_processes: int = 2
    worker_threads: int = 4
    profile: bool = False
    profile_seconds: float = 20.0
    profile_gil: bool = False  # py-spy --gil: only the thread holding the GIL (CPU, not waits)
    max_seconds: float = 0.0  # stop every runner after this long (0: no limit): "stopped"
    reply_timeout: float = 120.0  # a runner gives up on a reply after this long: "none"
    settle_seconds: float = 90.0  # after the runners: wait this long for the queues to drain
    connections: int = 100  # concurrent webhook posts (Telegram allows 1-100 per bot, 40 default)
    progress_seconds: float = 15.0  # a progress line this often (0: none)
    seed: int = 12


async def _post(client: httpx.AsyncClient, base: str, runner: Runner, text: str, uid: int) -> int:
    if runner.channel == "telegram":
        chat = int(runner.chat)
        body = {
            "update_id": uid,
            "message": {
                "message_id": uid,
                "from": {"id": chat, "is_bot": False, "first_name": "Pelari"},
                "chat": {"id": chat, "type": "private", "first_name": "Pelari"},
                "date": int(time.time()),
                "text": text,
            },
        }
        headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
        response = await client.post(f"{base}/webhooks/telegram", json=body, headers=headers)
    else:
        body = {"device": DEVICE, "sender": runner.chat, "message": text, "pesan": text,
                "name": "Pelari", "type": "text", "inboxid": uid, "isgroup": False}  # fmt: skip
        response = await client.post(f"{base}/webhooks/fonnte/{WA_SECRET}", json=body)
    return response.status_code


async def _run_one(
    runner: Runner, start: float, opts: Options, ctx: dict[str, Any], rng: random.Random
) -> None:
    inbox: Inbox = ctx["inbox"]
    key = f"{runner.channel}:{runner.chat}"
    await asyncio.sleep(start)
    try:
        await _steps(runner, key, opts, ctx, rng)
    finally:
        inbox.finish(key)
        ctx["live"].discard(runner.n)


async def _steps(
    runner: Runner, key: str, opts: Options, ctx: dict[str, Any], rng: random.Random
) -> None:
    inbox: Inbox = ctx["inbox"]
    deadline = ctx["deadline"]
    last = ""
    ctx["live"].add(runner.n)
    for step in runner.script():
        if time.monotonic() >= deadline:
            runner.outcome = "stopped"
            return
        text = runner.fill(last) if step is FILL else step
        before = inbox.count(key)
        began = time.monotonic()
        uid = next(ctx["ids"])
        for _attempt in range(5):  # no 2xx ack: the provider delivers the same update again
            try:
                client, gate = ctx["clients"][runner.n % len(ctx["clients"])]
                async with gate:
                    if await _post(client, ctx["base"], runner, text, uid) == 200:
                        break
            except httpx.HTTPError:
                ctx["errors"] += 1
            await asyncio.sleep(1)
        runner.acks.append(time.monotonic() - began)
        runner.sent += 1
        timeout = min(opts.reply_timeout, max(0.0, deadline - time.monotonic()))
        if not await inbox.wait_beyond(key, before, timeout):
            # Out of time because the run ended is "stopped"; no reply within the timeout, "none".
            runner.outcome = "stopped" if time.monotonic() >= deadline else "none"
            return
        runner.replies.append(time.monotonic() - began)
        ctx["replies"].append(runner.replies[-1])
        new = inbox.take(key)
        last = new[-1] if new else last
        if any(m in t for t in new for m in REGISTERED):
            runner.outcome = "registered"
        elif any(m in t for t in new for m in SOLD_OUT):
            runner.outcome = "sold_out"
        if runner.outcome != "none":
            runner.done_at = time.monotonic()
            return
        await asyncio.sleep(opts.think * rng.uniform(0.5, 1.5))


def _runners(opts: Options) -> list[Runner]:
    out = []
    for n in range(opts.runners):
        form = n % FORM_EVERY == FORM_EVERY - 1
        if n % 2 == 0:
            out.append(Runner(n, "telegram", str(800_000_000 + n), form=form))
        else:
            out.append(Runner(n, "whatsapp", f"62813{n:08d}", form=form))
    return out


def _starts(opts: Options, rng: random.Random) -> list[float]:
    burst = int(opts.runners * opts.burst)
    starts = [rng.uniform(0, opts.burst_seconds) for _ in range(burst)]
    starts += [rng.uniform(0, opts.ramp_seconds) for _ in range(opts.runners - burst)]
    rng.shuffle(starts)
    return starts


async def _drive(
    opts: Options, base: str, inbox: Inbox, watch: dict[str, Any] | None = None
) -> tuple[list[Runner], float, int]:
    """Run every runner; with ``watch`` (the sampler and connection probe) print progress lines."""
    import itertools

    rng = random.Random(opts.seed)
    runners = _runners(opts)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            (await stack.enter_async_context(_client(size)), asyncio.Semaphore(size))
            for size in _shards(opts.connections)
        ]
        began = time.monotonic()
        deadline = began + opts.max_seconds if opts.max_seconds else float("inf")
        ctx = {"clients": clients, "base": base, "inbox": inbox, "ids": itertools.count(10_000),
               "deadline": deadline, "errors": 0, "live": set(), "replies": []}  # fmt: skip
        starts = _starts(opts, rng)
        progress = None
        if opts.progress_seconds and watch is not None:
            progress = asyncio.ensure_future(_progress(opts, runners, began, ctx, watch))
        try:
            await asyncio.gather(
                *(
                    _run_one(r, s, opts, ctx, random.Random(r.n))
                    for r, s in zip(runners, starts, strict=True)
                )
            )
        finally:
            if progress is not None:
                progress.cancel()
    return runners, began, ctx["errors"]


SHARD = 10  # connections per httpx client


def _shards(connections: int) -> list[int]:
    """Pool sizes of SHARD connections (the last one smaller) adding up to ``connections``.

    httpcore's pool checks every connection of the pool (a poll() each) on every request: one
    pool of 100 cost the bench ~30 % of its CPU at 10,000 runners; ten pools of 10 a tenth of that.
    """
    full, rest = divmod(max(1, connections), SHARD)
    return [SHARD] * full + ([rest] if rest else [])


def _client(size: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    return httpx.AsyncClient(limits=limits, timeout=60)


async def _progress(
    opts: Options, runners: list[Runner], began: float, ctx: dict[str, Any], watch: dict[str, Any]
) -> None:
    """Every ``progress_seconds``: runners done, messages/s, reply p50/p99, queues, CPU by role."""
    sampler, connections = watch["sampler"], watch["connections"]
    last_at, last_msgs, last_replies = began, 0, 0
    last_cpu = {n: r.cpu_seconds() for n, r in sampler.roles.items()}
    while True:
        await asyncio.sleep(opts.progress_seconds)
        now = time.monotonic()
        outcomes: dict[str, int] = {}
        for r in runners:  # "none" while a runner is still going is not an outcome yet
            if r.outcome != "none" or (r.sent and r.n not in ctx["live"]):
                outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
        msgs = sum(r.sent for r in runners)
        replies = ctx["replies"]
        window = sorted(replies[last_replies:])
        p = lambda q, v: v[min(len(v) - 1, int(q * len(v)))] * 1000 if v else 0.0  # noqa: E731
        queued = await asyncio.to_thread(check.open_counts)
        cpu = {n: r.cpu_seconds() for n, r in sampler.roles.items()}
        span = now - last_at
        shares = " ".join(f"{n} {(cpu[n] - last_cpu.get(n, 0)) / span * 100:.0f}%" for n in cpu)
        print(
            f"[{now - began:5.0f}s] live {len(ctx['live'])} reg {outcomes.get('registered', 0)} "
            f"sold out {outcomes.get('sold_out', 0)} none {outcomes.get('none', 0)}; "
            f"{msgs} msgs, {(msgs - last_msgs) / span:.1f}/s now, {msgs / (now - began):.1f}/s "
            f"overall; reply p50/p99 {p(0.5, window):.0f}/{p(0.99, window):.0f} ms now; "
            f"queued in/out {queued[0]}/{queued[1]}; db conns {connections.current}; "
            f"cpu {shares}; bench rss {sampler.roles['bench'].rss_now():.0f} MiB",
            flush=True,
        )
        last_at, last_msgs, last_replies, last_cpu = now, msgs, len(replies), cpu


# -- processes -----------------------------------------------------------------------------------


def _env(opts: Options, code: Path, fakes: dict[str, str], media: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(code), "MEDIA_DIR": str(media)}
    env.update(
        TELEGRAM_BOT_TOKEN=TG_TOKEN,
        TELEGRAM_WEBHOOK_SECRET=TG_SECRET,
        FONNTE_TOKEN=WA_TOKEN,
        FONNTE_WEBHOOK_SECRET=WA_SECRET,
        TELEGRAM_API_BASE=fakes["telegram"],
        FONNTE_API_BASE=fakes["fonnte"],
    )
    if opts.mode == "open":  # our own pacing out of the way: only our cost counts
        env.update(
            TELEGRAM_MAX_PER_SECOND="100000",
            TELEGRAM_CHAT_MAX_PER_SECOND="1000",
            FONNTE_MAX_PER_SECOND="100000",
        )
    return env


def _raise_nofile() -> None:
    """Open files up to the hard limit: sockets of the pool, the fakes and the processes' pipes."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (what uvicorn uses too): less of the bench's CPU per message."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _spawn(args: list[str], env: dict[str, str], code: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args],
            cwd=code,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"funrun serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("funrun serve did not come up")


def _serve_args(opts: Options, port: int, code: Path) -> list[str]:
    args = ["serve", "--port", str(port)]
    help_text = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--help"],
        cwd=code,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(code)},
    ).stdout
    if opts.serve_workers > 1 and "--workers" in help_text:
        args += ["--workers", str(opts.serve_workers)]
    return args


def _py_spy() -> str:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else "py-spy"


def _profile(
    pids: dict[str, int], seconds: float, out: Path, *, gil: bool = False
) -> list[subprocess.Popen[bytes]]:
    procs = []
    for name, pid in pids.items():
        args = [_py_spy(), "record", "--pid", str(pid), "--duration", str(int(seconds))]
        args += ["--rate", "50", "--format", "raw", "--output", str(out / f"{name}.txt")]
        args += ["--subprocesses", "--nonblocking", *(["--gil"] if gil else [])]
        procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


# -- one run -------------------------------------------------------------------------------------


def run(opts: Options, code: Path, label: str) -> dict[str, Any]:
    """One rush against the code in ``code``; return its measurements (raises on a broken invariant)."""
    from tests.fakes.server import serve

    check.prepare(slots=int(opts.runners * opts.slots_ratio), runners=opts.runners)
    _raise_nofile()
    loop = _new_loop()
    inbox = Inbox(loop)
    limits = Limits() if opts.mode == "limited" else None
    telegram = RushTelegram(TG_TOKEN, inbox.on_sent, limits)
    fonnte = RushFonnte(f"{WA_TOKEN}", inbox.on_sent, limits)
    work = Path(tempfile.mkdtemp(prefix="funrun-rush-"))
    with serve(telegram.app) as tg_url, serve(fonnte.app) as wa_url:
        env = _env(opts, code, {"telegram": tg_url, "fonnte": wa_url}, work / "media")
        port = check.free_port()
        base = f"http://127.0.0.1:{port}"
        api = _spawn(_serve_args(opts, port, code), env, code, work / "api.log")
        worker_args = ["worker", "--processes", str(opts.worker_processes)]
        worker_args += ["--threads", str(opts.worker_threads)]
        worker = _spawn(worker_args, env, code, work / "worker.log")
        try:
            _wait_healthy(base, api, work / "api.log")
            time.sleep(3)  # the workers import and connect
            result = _measure(
                opts, loop, base, inbox, {"api": api.pid, "workers": worker.pid}, work
            )
        finally:
            _stop(api)
            _stop(worker)
            loop.close()
    # Counted once the processes are gone: nothing is sent any more.
    result["delivered"] = inbox.delivered
    result["peak_rate"] = {ch: check.peak_rate(at) for ch, at in sorted(inbox.sent_at.items())}
    result.update(label=label, mode=opts.mode, rejected=telegram.rejected + fonnte.rejected)
    result["refused"] = {  # the 429s by the fake's bucket that refused
        **{f"tg {k}": v for k, v in sorted(telegram.refused.items())},
        **{f"wa {k}": v for k, v in sorted(fonnte.refused.items())},
    }
    result["invariants"] = check.invariants(result, slots=int(opts.runners * opts.slots_ratio))
    result["queue_added"] = check.queue_added(ideal.added(ideal.sent_rows(), env))
    result["logs"] = str(work)
    return result


def _measure(
    opts: Options,
    loop: asyncio.AbstractEventLoop,
    base: str,
    inbox: Inbox,
    pids: dict[str, int],
    work: Path,
) -> dict[str, Any]:
    roots = dict(pids)
    roots["postgres"] = check.postmaster_pid() or 0
    roots["redis"] = find_pid("redis-server", f":{os.environ.get('TEST_REDIS_PORT', '')}") or 0
    roots["bench"] = os.getpid()  # the runners and the fakes (the API and workers are roles apart)
    sampler = Sampler(roots)
    connections = check.ConnectionWatch()
    sampler.start()
    connections.start()
    profilers = []
    if opts.profile:
        loop.call_later(
            opts.burst_seconds,
            lambda: profilers.extend(
                _profile(pids, opts.profile_seconds, work, gil=opts.profile_gil)
            ),
        )
    watch = {"sampler": sampler, "connections": connections}
    runners, began, errors = loop.run_until_complete(_drive(opts, base, inbox, watch))
    wall = time.monotonic() - began
    settled = check.wait_settled(opts.settle_seconds)
    sampler.stop()
    connections.stop()
    for proc in profilers:
        proc.wait(timeout=opts.profile_seconds + 60)
    for r in runners:
        r.received = inbox.count(f"{r.channel}:{r.chat}")
    result = check.summarise(runners, began, wall)
    result.update(settled=settled, db_connections=connections.peak, cpu={}, rss={}, procs={})
    result["stopped_at"] = opts.max_seconds if any(r.outcome == "stopped" for r in runners) else 0
    result["queued_after"] = check.open_counts()
    result["ack_errors"] = errors
    for name, role in sampler.roles.items():
        result["cpu"][name] = role.cpu_seconds()
        result["rss"][name] = role.peak_rss()
        result["procs"][name] = role.processes()
    if opts.profile:
        result["profile"] = {n: check.top_frames(work / f"{n}.txt") for n in pids}
    return result


# -- command line --------------------------------------------------------------------------------


def _export(ref: str) -> Path:
    """The tree of git ``ref`` in a temporary directory (the worktree is left alone)."""
    target = Path(tempfile.mkdtemp(prefix="funrun-rush-ref-"))
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def _parse(argv: list[str] | None) -> tuple[Options, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    defaults = Options()
    for name, value in vars(defaults).items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parser.add_argument(flag, action="store_true")
        else:
            parser.add_argument(flag, type=type(value), default=value)
    parser.add_argument("--modes", default="", help="comma-separated modes (overrides --mode)")
    parser.add_argument("--compare", default="", help="git ref to measure first, as 'before'")
    parser.add_argument(
        "--rounds", type=int, default=1,
        help="with --compare: before/after pairs run alternately (ABAB), medians compared",
    )  # fmt: skip
    parser.add_argument("--write", action="store_true", help="write docs/BENCHMARKS.md")
    args = parser.parse_args(argv)
    known = {k: v for k, v in vars(args).items() if k in vars(defaults)}
    return Options(**known), args


def main(argv: list[str] | None = None) -> int:
    opts, args = _parse(argv)
    check.require_services()
    modes = [m for m in (args.modes or opts.mode).split(",") if m]
    header = machine()
    results = []
    before = _export(args.compare) if args.compare else None
    rounds = max(1, args.rounds) if before else 1
    for mode in modes:
        mode_opts = Options(**{**vars(opts), "mode": mode})
        for n in range(rounds):
            tag = f" #{n + 1}" if rounds > 1 else ""
            if before is not None:
                results.append(run(mode_opts, before, f"before ({args.compare}){tag}"))
                print(check.line(results[-1]), flush=True)
            results.append(run(mode_opts, ROOT, f"after{tag}" if before else "this tree"))
            print(check.line(results[-1]), flush=True)
    ratios = check.round_ratios(results) if rounds > 1 else []
    for text in ratios:
        print(text, flush=True)
    (ROOT / "var").mkdir(exist_ok=True)
    (ROOT / "var" / "rush-results.json").write_text(json.dumps(results, indent=1, default=str))
    if args.write:
        write_section("rush_webhooks", check.report(opts, header, results) + ratios)
    broken = [r for r in results if r["invariants"]]
    for r in broken:
        print(f"INVARIANT BROKEN ({r['label']}, {r['mode']}): {r['invariants']}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
