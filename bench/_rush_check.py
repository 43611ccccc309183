"""The rush's database side: preparation, settling, invariants, summary and the report section."""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from bench._report import ROOT

CATEGORY = "21K"


def require_services() -> None:
    from core.config import get_settings

    url = get_settings().database_url
    if not url.startswith("postgresql") or not url.rsplit("/", 1)[-1].endswith("_test"):
        raise SystemExit("the rush needs a throwaway PostgreSQL database (*_test): make bench-rush")
    if not get_settings().redis_url:
        raise SystemExit("the rush needs REDIS_URL: make bench-rush")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def empty_database(*, migrate: bool = True) -> None:
    """Migrate (unless told not to) and empty every table."""
    from alembic.config import Config

    from alembic import command
    from core.config import get_settings
    from core.db import Base, get_engine

    if migrate:
        config = Config(str(ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(ROOT / "alembic"))
        config.attributes["url"] = get_settings().database_url
        command.upgrade(config, "head")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def prepare(*, slots: int, runners: int) -> None:
    """Migrate, empty every table and Redis, seed the demo event with ``slots`` places in 21K."""
    import redis

    from core import demo
    from core.config import get_settings
    from core.db import unit_of_work
    from core.models import Category, JerseyStock

    empty_database()
    redis.Redis.from_url(get_settings().redis_url).flushdb()
    with unit_of_work() as uow:
        event_id = demo.seed(uow.session, admin_password="rush-password-123").event_id
        category = uow.session.scalars(
            select(Category).where(Category.event_id == event_id, Category.code == CATEGORY)
        ).one()
        category.quota = category.slots_taken + slots
        for stock in uow.session.scalars(select(JerseyStock)):
            stock.stock = stock.taken + runners  # the sell-out is the category's, not a size's


def postmaster_pid() -> int | None:
    import os

    data = os.environ.get("TEST_PG_DATA")
    if not data or not (Path(data) / "postmaster.pid").exists():
        return None
    return int((Path(data) / "postmaster.pid").read_text().split()[0])


class ConnectionWatch:
    """The peak number of connections to the database, sampled twice a second."""

    def __init__(self) -> None:
        self.peak = self.current = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="pg-connections")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        from core.db import get_engine

        query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        with get_engine().connect() as conn:
            while not self._stop.wait(0.5):
                self.current = int(conn.execute(query).scalar() or 0) - 1
                self.peak = max(self.peak, self.current)
                conn.rollback()


def open_counts() -> tuple[int, int]:
    from core.db import get_sessionmaker
    from core.models import InboundUpdate, OutboundMessage

    with get_sessionmaker()() as session:
        inbound = session.scalar(select(func.count()).where(InboundUpdate.processed_at.is_(None)))
        outbound = session.scalar(
            select(func.count()).where(OutboundMessage.status.in_(["pending", "sending"]))
        )
    return int(inbound or 0), int(outbound or 0)


def wait_settled(timeout: float) -> bool:
    """Wait until no inbound row is unprocessed and no outbound row unsent (or ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if open_counts() == (0, 0):
            return True
        time.sleep(0.5)
    return False


def _q(values: list[float], q: int) -> float:
    if len(values) < 2:
        return (values[0] if values else 0.0) * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def summarise(runners: list[Any], began: float, wall: float) -> dict[str, Any]:
    outcomes = Counter(r.outcome for r in runners)
    stopped = [r for r in runners if r.outcome == "stopped"]
    acks = [a for r in runners for a in r.acks]
    replies = [x for r in runners for x in r.replies]
    registered = [r for r in runners if r.outcome == "registered"]
    finished = [r.done_at for r in registered]
    span = (max(finished) - began) if finished else wall
    return {
        "runners": len(runners),
        "outcomes": dict(outcomes),
        "wall": wall,
        "messages": len(acks),
        "msgs_per_s": len(acks) / wall if wall else 0.0,
        "ack_p50": _q(acks, 50),
        "ack_p95": _q(acks, 95),
        "ack_p99": _q(acks, 99),
        "reply_p50": _q(replies, 50),
        "reply_p95": _q(replies, 95),
        "reply_p99": _q(replies, 99),
        "reg_per_min": len(registered) / span * 60 if span else 0.0,
        # Runners the deadline stopped: before their first message, or mid-flow (and how far).
        "stopped_unstarted": sum(1 for r in stopped if not r.sent),
        "stopped_mid": sum(1 for r in stopped if r.sent),
        "stopped_mid_msgs": statistics.mean(r.sent for r in stopped if r.sent)
        if any(r.sent for r in stopped)
        else 0,
        "runner_msgs_per_reg": statistics.mean(r.sent for r in registered) if registered else 0,
        "bot_msgs_per_reg": statistics.mean(r.received for r in registered) if registered else 0,
        **_per_mode(registered),
        **{
            f"reply_{ch}_p{q}": _q([x for r in runners if r.channel == ch for x in r.replies], q)
            for ch in ("telegram", "whatsapp")
            for q in (50, 99)
        },
    }


def _per_mode(registered: list[Any]) -> dict[str, float]:
    """Runner and bot messages per registration, step by step and with the one-message form."""
    out: dict[str, float] = {}
    for mode, group in (("step", [r for r in registered if not r.form]),
                        ("form", [r for r in registered if r.form])):  # fmt: skip
        out[f"runner_msgs_{mode}"] = statistics.mean(r.sent for r in group) if group else 0
        out[f"bot_msgs_{mode}"] = statistics.mean(r.received for r in group) if group else 0
    return out


def invariants(result: dict[str, Any], *, slots: int) -> list[str]:
    """Every broken invariant, in words (empty: all held).

    A run stopped by --max-seconds leaves runners mid-flow ("stopped", not "no answer") and, if the
    queues did not drain within --settle-seconds, messages still queued: those two checks then
    only report; the rest hold at any moment and always apply. Outbound rows are marked sent after
    the provider accepted them, so sent <= delivered <= sent + sending: fewer deliveries is a lost
    message, more a doubled one, settled or not.
    """
    from core.db import get_sessionmaker
    from core.models import Category, InboundUpdate, OutboundMessage, Registration

    broken = []
    with get_sessionmaker()() as session:
        taken = session.scalar(
            select(func.count())
            .select_from(Registration)
            .join(Category, Category.id == Registration.category_id)
            .where(Category.code == CATEGORY)
        )
        dup_numbers = session.scalar(_dups(Registration.number))
        dup_amounts = session.scalar(_dups(Registration.amount_due, Registration.event_id))
        unprocessed = session.scalar(
            select(func.count()).where(InboundUpdate.processed_at.is_(None))
        )
        status = dict(
            session.execute(
                select(OutboundMessage.status, func.count())
                .where(OutboundMessage.kind != "callback_answer")
                .group_by(OutboundMessage.status)
            ).all()
        )
        dup_provider = session.scalar(_dups(OutboundMessage.provider_message_id))
    sent, sending = status.get("sent", 0), status.get("sending", 0)
    unsent = sum(v for k, v in status.items() if k != "sent")
    stopped = bool(result.get("stopped_at"))
    outcomes = result["outcomes"]
    registered, mid = outcomes.get("registered", 0), result.get("stopped_mid", 0)
    if (taken or 0) > slots:
        broken.append(f"{taken} registrations for {slots} slots")
    if (taken or 0) < registered:
        broken.append(f"{registered} runners told they are registered, {taken} registrations")
    if (taken or 0) > registered + mid:
        broken.append(f"{taken} registrations for {registered} registered (+{mid} stopped) runners")
    if outcomes.get("none"):
        broken.append(f"{outcomes['none']} runners without a final answer")
    if dup_numbers:
        broken.append(f"{dup_numbers} duplicated registration numbers")
    if dup_amounts:
        broken.append(f"{dup_amounts} duplicated amounts")
    if status.get("failed"):
        broken.append(f"{status['failed']} outbound messages failed")
    if (unprocessed or unsent) and not (stopped and not result["settled"]):
        if unprocessed:
            broken.append(f"{unprocessed} inbound messages unprocessed")
        if unsent:
            broken.append(f"{unsent} outbound messages not sent")
    if sent > result["delivered"]:
        broken.append(f"{sent} outbound rows sent but {result['delivered']} reached the providers")
    if result["delivered"] > sent + sending:
        broken.append(
            f"{result['delivered']} messages reached the providers for {sent} rows sent"
            f" (+{sending} sending): doubled"
        )
    if dup_provider:
        broken.append(f"{dup_provider} provider message ids recorded twice")
    result["left_queued"] = {"inbound": unprocessed or 0, "outbound": unsent}
    return broken


def _dups(*columns: Any) -> Any:
    """Count values (not NULL: rows never sent have no provider id) that occur more than once."""
    grouped = (
        select(*columns)
        .where(*(c.is_not(None) for c in columns))
        .group_by(*columns)
        .having(func.count() > 1)
        .subquery()
    )
    return select(func.count()).select_from(grouped)


OURS = ("core/", "flows/", "workers/", "webhooks/", "channels/", "messaging/", "events/")


def top_frames(path: Path, limit: int = 15) -> list[tuple[str, float]]:
    """Our functions (and psycopg's wait) by inclusive share of py-spy's samples.

    py-spy's raw format is one 'frame;frame;... count' line per distinct stack.
    """
    if not path.exists():
        return []
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        for frame in {_frame(f) for f in stack.split(";")}:
            inclusive[frame] += int(count)
    wanted = [
        (f, c / total * 100)
        for f, c in inclusive.most_common()
        if ("site-packages" not in f and any(o in f for o in OURS))
        or f.startswith(("Connection.wait (", "Redis.execute_command", "Client.send ("))
    ]
    return wanted[:limit]


def _frame(frame: str) -> str:
    """'fn (path/to/module.py:12)' -> 'fn (module.py)'."""
    name, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0]
    short = "/".join(Path(file).parts[-2:])
    if "site-packages" in file:
        short = "site-packages/" + short
    return f"{name} ({short})"


def _stopped(r: dict[str, Any]) -> str:
    if not r.get("stopped_at"):
        return ""
    queued = r.get("left_queued") or {}
    return (
        f"stopped at {r['stopped_at']:.0f}s: {r.get('stopped_mid', 0)} mid-flow "
        f"(avg {r.get('stopped_mid_msgs', 0):.1f} msgs sent), {r.get('stopped_unstarted', 0)} "
        f"not started; left queued in/out {queued.get('inbound', 0)}/{queued.get('outbound', 0)}; "
    )


def line(r: dict[str, Any]) -> str:
    cpu = " ".join(f"{k}={v:.0f}s" for k, v in r["cpu"].items())
    n = max(1, r["messages"])
    per = " ".join(f"{k}={v * 1000 / n:.1f}" for k, v in r["cpu"].items())
    rss = " ".join(f"{k}={v:.0f}MiB" for k, v in r["rss"].items())
    return (
        f"[{r['label']} {r['mode']}] {r['runners']} runners {r['outcomes']} in {r['wall']:.0f}s; "
        f"{r['msgs_per_s']:.1f} msg/s; ack p50/p95/p99 {r['ack_p50']:.0f}/{r['ack_p95']:.0f}/"
        f"{r['ack_p99']:.0f} ms; reply p50/p99 {r['reply_p50']:.0f}/{r['reply_p99']:.0f} ms "
        f"(tg {r.get('reply_telegram_p50', 0):.0f}/{r.get('reply_telegram_p99', 0):.0f}, "
        f"wa {r.get('reply_whatsapp_p50', 0):.0f}/{r.get('reply_whatsapp_p99', 0):.0f}); "
        f"{r['reg_per_min']:.0f} reg/min; msgs/reg runner {r['runner_msgs_per_reg']:.1f} bot "
        f"{r['bot_msgs_per_reg']:.1f} (step {r.get('runner_msgs_step', 0):.1f}/{r.get('bot_msgs_step', 0):.1f}, "
        f"form {r.get('runner_msgs_form', 0):.1f}/{r.get('bot_msgs_form', 0):.1f}); cpu {cpu}; "
        f"cpu ms/msg {per}; rss {rss}; db conns {r['db_connections']}; {_peaks(r)}{_stopped(r)}"
        f"queues added p50/p99/max ms {_added(r, ', ')}; "
        f"429s {r['rejected']}{_refused(r)}; ack errors {r.get('ack_errors', 0)}; settled {r['settled']}; invariants {r['invariants'] or 'ok'}"
    )


PEAK_WINDOW = 5.0  # seconds: a sustained rate, not one lucky burst


def peak_rate(times: list[float], window: float = PEAK_WINDOW) -> float:
    """The most sends per second in any ``window`` seconds (the accepted sends at one fake).

    In limited mode, against the provider's limit (our ceilings: Telegram TELEGRAM_MAX_PER_SECOND,
    Fonnte FONNTE_DEVICE_MAX_PER_SECOND) it shows how much of the limit our queue uses while a
    backlog waits: at the limit, the rush's length is set by the provider, not by us.
    """
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best / window


def _peaks(r: dict[str, Any]) -> str:
    """Peak sustained send rate per channel: " peak msg/s over 5 s tg 8.2 wa 9.0;"."""
    peaks = r.get("peak_rate") or {}
    names = {"telegram": "tg", "whatsapp": "wa"}
    split = " ".join(f"{names.get(k, k)} {v:.1f}" for k, v in peaks.items())
    return f"peak sent msg/s over {PEAK_WINDOW:.0f} s {split}; " if split else ""


def queue_added(added: dict[str, list[float]]) -> dict[str, tuple[float, float, float]]:
    """Per channel, p50 / p99 / max in ms of what our queues added to a send (bench/_pace_ideal)."""
    return {ch: (_q(v, 50), _q(v, 99), max(v) * 1000) for ch, v in sorted(added.items()) if v}


def _added(r: dict[str, Any], sep: str = "; ") -> str:
    """What our queues added, p50/p99/max ms per channel: "tg 3/240/900; wa 5/600/1200"."""
    names = {"telegram": "tg", "whatsapp": "wa"}
    return sep.join(
        f"{names.get(ch, ch)} {'/'.join(f'{v:.0f}' for v in q)}"
        for ch, q in (r.get("queue_added") or {}).items()
    )


def _refused(r: dict[str, Any]) -> str:
    """The 429s by the bucket that refused: " (tg chat 12, tg all 3, wa device 4)"."""
    split = ", ".join(f"{k} {v}" for k, v in (r.get("refused") or {}).items() if v)
    return f" ({split})" if split else ""


def report(opts: Any, header: str, results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## The opening minute through the webhooks (bench/rush.py, `make bench-rush`)",
        "",
        f"Machine: {header}. `funrun serve` (--workers {opts.serve_workers}) and `funrun worker` "
        f"(--processes {opts.worker_processes} --threads {opts.worker_threads}) as separate processes "
        "on PostgreSQL + Redis; fake Telegram/Fonnte and the runners in the bench process on the same "
        f"2 cores. {opts.runners} runners (half Telegram, half WhatsApp), {opts.burst:.0%} of them "
        f"starting within {opts.burst_seconds:.0f} s and the rest over {opts.ramp_seconds:.0f} s, "
        f"think time {opts.think:.1f} s ±50 %, {int(opts.runners * opts.slots_ratio)} slots in "
        f"{CATEGORY}. Modes: open = fakes accept everything and our pacing is lifted (our own "
        "capacity); limited = fakes answer 429 at Telegram 30/s overall + 1/s per chat (burst 3) "
        "and Fonnte 10/s per device, our pacing at its defaults. *Queues added*: per sent message, "
        "its send time minus that of an ideal sender that knows it from the moment it is written "
        "and sends at our own ceilings (bench/_pace_ideal.py), p50/p99/max ms per channel.",
        "",
        "| code | mode | outcome | msg/s | ack p50/p95/p99 ms | reply p50/p95/p99 ms | reg/min "
        "| msgs per reg (runner/bot) | CPU s api/workers/pg/redis/bench "
        "| CPU ms per msg (api/workers/pg/bench) "
        "| peak RSS MiB api/workers/bench | DB conns | 429s | queues added ms | invariants |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(_row(r))
    for r in results:
        for name, frames in (r.get("profile") or {}).items():
            lines += ["", f"Profile ({r['label']}, {r['mode']}, {name}; py-spy, inclusive share "
                      "of busy samples):", ""]  # fmt: skip
            lines += [f"- {share:.0f} % {frame}" for frame, share in frames]
    return lines


def _row(r: dict[str, Any]) -> str:
    cpu, rss, n = r["cpu"], r["rss"], max(1, r["messages"])
    per = "/".join(
        f"{cpu.get(k, 0) * 1000 / n:.1f}" for k in ("api", "workers", "postgres", "bench")
    )
    outcome = (
        f"{r['outcomes'].get('registered', 0)} reg, {r['outcomes'].get('sold_out', 0)} sold out"
    )
    if r["outcomes"].get("none"):
        outcome += f", **{r['outcomes']['none']} no answer**"
    if r["outcomes"].get("stopped"):
        outcome += (
            f", {r['outcomes']['stopped']} stopped at {r['stopped_at']:.0f} s "
            f"({r.get('stopped_mid', 0)} mid-flow)"
        )
    return (
        f"| {r['label']} | {r['mode']} | {outcome} | {r['msgs_per_s']:.1f} | "
        f"{r['ack_p50']:.0f}/{r['ack_p95']:.0f}/{r['ack_p99']:.0f} | "
        f"{r['reply_p50']:.0f}/{r['reply_p95']:.0f}/{r['reply_p99']:.0f} | "
        f"{r['reg_per_min']:.0f} | {r['runner_msgs_per_reg']:.1f}/{r['bot_msgs_per_reg']:.1f} | "
        + "/".join(f"{cpu.get(k, 0):.0f}" for k in ("api", "workers", "postgres", "redis", "bench"))
        + f" | {per} | {rss.get('api', 0):.0f}/{rss.get('workers', 0):.0f}"
        f"/{rss.get('bench', 0):.0f} | "
        f"{r['db_connections']} | {r['rejected']}{_refused(r)} | {_added(r)} | "
        f"{'; '.join(r['invariants']) or 'held'} |"
    )


def round_ratios(results: list[dict[str, Any]]) -> list[str]:
    """Per mode, after / before of the medians over alternating rounds (the machine's drift between
    runs cancels out of the pairs; CPU per message is also shown relative to the bench process's
    own, whose code does not change between the two)."""
    lines = [""]
    for mode in dict.fromkeys(r["mode"] for r in results):
        runs = [r for r in results if r["mode"] == mode]
        sides = ([r for r in runs if r["label"].startswith("before")],
                 [r for r in runs if r["label"].startswith("after")])  # fmt: skip
        if not all(sides):
            continue
        rate = [statistics.median(r["msgs_per_s"] for r in side) for side in sides]
        cpu = [statistics.median(_cpu_per_msg(r, "workers") for r in side) for side in sides]
        rel = [statistics.median(_cpu_per_msg(r, "workers") / max(_cpu_per_msg(r, "bench"), 1e-9)
                                 for r in side) for side in sides]  # fmt: skip
        lines.append(
            f"- {mode}, median of {len(sides[1])} alternating rounds: {rate[0]:.1f} -> "
            f"{rate[1]:.1f} msg/s (x{rate[1] / rate[0]:.2f}); workers CPU {cpu[0]:.1f} -> "
            f"{cpu[1]:.1f} ms/msg (x{cpu[1] / cpu[0]:.2f}; x{rel[1] / rel[0]:.2f} relative to the "
            "bench process's own CPU per message)"
        )
    return lines


def _cpu_per_msg(r: dict[str, Any], name: str) -> float:
    return r["cpu"].get(name, 0) * 1000 / max(1, r["messages"])
