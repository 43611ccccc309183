"""Side workloads of the media-full and scheduler-stop fault scenarios (bench/faults.py).

Both run beside the rush, on the demo event's other categories (the rush's 21K counts stay as
they are; no jersey is taken, so the rush's stock is untouched): photo senders whose payment photos meet a full media disk, and due work (expiries,
payment reminders, waiting-list holds) that falls due while the scheduler is stopped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench._report import ROOT

PHOTO_CHAT_BASE = 6289900000000  # WhatsApp numbers of the photo senders
DUE_CHAT_BASE = 9100000  # Telegram chats of the seeded due work


# -- media-full ---------------------------------------------------------------------------------


def mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        raise SystemExit(f"media-full needs root to mount a tmpfs: {done.stderr.decode()[:200]}")


def unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder: Path) -> Path:
    """Write zeros until the filesystem says ENOSPC; return the filler."""
    filler = folder / "filler.bin"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError:
            pass
        try:  # the last blocks
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


def _png(n: int) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (360, 640), (20 + n % 200, 90, 160)).save(out, format="PNG")
    return out.getvalue()


@dataclass
class PhotoSenders:
    """Registrations waiting for payment whose runners send a proof photo."""

    chats: dict[str, int] = field(default_factory=dict)  # phone -> registration id
    first: dict[str, str] = field(default_factory=dict)  # phone -> reply to the photo in the fault
    second: dict[str, str] = field(default_factory=dict)  # phone -> reply to the resend


def seed_photo_senders(count: int) -> PhotoSenders:
    from core.db import unit_of_work
    from core.enums import RegistrationStatus
    from tests.factories import demo_event, make_registration

    senders = PhotoSenders()
    with unit_of_work() as uow:
        event = demo_event(uow.session)
        for n in range(count):
            phone = str(PHOTO_CHAT_BASE + n)
            reg = make_registration(
                uow.session, event, code="5K", status=RegistrationStatus.PENDING_PAYMENT,
                channel="whatsapp", chat_id=phone, jersey_size=None,
            )  # fmt: skip
            senders.chats[phone] = reg.id
    return senders


def send_photos(base: str, secret: str, fonnte: Any, senders: PhotoSenders, inbox: Any,
                *, round_: int, device: str) -> dict[str, str]:  # fmt: skip
    """Post one photo per sender through the Fonnte webhook; return each one's next reply."""
    template = json.loads((ROOT / "tests/fixtures/fonnte/image.json").read_text())
    before = {p: len(inbox.texts.get(f"whatsapp:{p}", ())) for p in senders.chats}
    with httpx.Client(timeout=10) as client:
        for n, phone in enumerate(senders.chats):
            url = fonnte.add_media(f"bukti-{phone}-{round_}.png", _png(n))
            body = {**template, "device": device, "sender": phone, "url": url,
                    "filename": "bukti.png", "extension": "png",
                    "inboxid": 7_000_000 + round_ * 10_000 + n}  # fmt: skip
            for _ in range(20):  # like Fonnte: re-delivered until acknowledged
                try:
                    if (
                        client.post(f"{base}/webhooks/fonnte/{secret}", json=body).status_code
                        == 200
                    ):
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)
    replies: dict[str, str] = {}
    deadline = time.monotonic() + 90
    while len(replies) < len(senders.chats) and time.monotonic() < deadline:
        for phone in senders.chats:
            texts = inbox.texts.get(f"whatsapp:{phone}", [])
            if len(texts) > before[phone] and phone not in replies:
                replies[phone] = texts[before[phone]]
        time.sleep(0.2)
    return replies


def photo_verdict(senders: PhotoSenders, media_dir: Path) -> tuple[dict[str, Any], list[str]]:
    from core.db import get_sessionmaker
    from core.enums import RegistrationStatus
    from core.i18n import t
    from core.models import Payment, PaymentImage, Registration

    not_stored = t("faults.photo_not_stored", "id")
    told = sum(1 for r in senders.first.values() if r == not_stored)
    with get_sessionmaker()() as session:
        waiting = session.scalars(
            select(Registration.id).where(
                Registration.id.in_(senders.chats.values()),
                Registration.status == RegistrationStatus.AWAITING_VERIFICATION.value,
            )
        ).all()
        paths = session.scalars(
            select(PaymentImage.path)
            .join(Payment, Payment.id == PaymentImage.payment_id)
            .where(Payment.registration_id.in_(senders.chats.values()))
        ).all()
    stored = sum(1 for p in paths if (media_dir / p).is_file())  # the processes' MEDIA_DIR
    n = len(senders.chats)
    figures = {"photo_senders": n, "told_not_stored": told, "resends_stored": stored,
               "awaiting_verification": len(waiting)}  # fmt: skip
    broken = []
    if told < n:
        broken.append(f"{n - told} of {n} photo senders not told the photo was not stored")
    if stored < n or len(waiting) < n:
        broken.append(f"{n - min(stored, len(waiting))} resends after freeing not stored")
    return figures, broken


# -- scheduler-stop -----------------------------------------------------------------------------


def scheduler_pids(worker_pid: int) -> list[int]:
    """The `python -m workers.scheduler` children of a `funrun worker` process."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == worker_pid and b"workers.scheduler" in cmdline:
            pids.append(int(entry.name))
    return pids


def kill_scheduler(worker_pid: int) -> int:
    pids = scheduler_pids(worker_pid)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return len(pids)


def start_scheduler(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "workers.scheduler"], cwd=ROOT, env=env,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


@dataclass
class DueWork:
    expiring: list[int] = field(default_factory=list)  # registration ids
    reminded: list[int] = field(default_factory=list)
    holds: list[int] = field(default_factory=list)  # waiting-list entry ids
    restarted_at: datetime | None = None


def seed_due_work(count: int, window: float) -> DueWork:
    """``count`` of each kind, falling due spread over the next ``window`` seconds."""
    from core.db import unit_of_work, utcnow
    from core.enums import RegistrationStatus
    from core.models.waitlist import WaitlistEntry, WaitlistStatus
    from tests.factories import category, demo_event, make_registration

    work, now = DueWork(), utcnow()

    def due(n: int) -> datetime:
        return now + timedelta(seconds=window * (n + 1) / (count + 1))

    with unit_of_work() as uow:
        event = demo_event(uow.session)
        for n in range(count):
            late = make_registration(
                uow.session, event, code="5K", status=RegistrationStatus.PENDING_PAYMENT,
                chat_id=str(DUE_CHAT_BASE + n), jersey_size=None, payment_deadline=due(n) - timedelta(hours=1),
                expires_at=due(n),
            )  # fmt: skip
            deadline = due(n) + timedelta(hours=event.reminder_hours_before)
            soon = make_registration(
                uow.session, event, code="5K", status=RegistrationStatus.PENDING_PAYMENT,
                chat_id=str(DUE_CHAT_BASE + 1000 + n), jersey_size=None, payment_deadline=deadline,
                expires_at=deadline + timedelta(hours=1),
            )  # fmt: skip
            ten = category(uow.session, event, "10K")
            ten.slots_taken += 1  # the slot the offer holds
            hold = WaitlistEntry(
                event_id=event.id, category_id=ten.id, channel="telegram",
                chat_id=str(DUE_CHAT_BASE + 2000 + n), position=n + 1, name="Menunggu",
                status=WaitlistStatus.OFFERED.value, hold_until=due(n),
            )  # fmt: skip
            uow.session.add(hold)
            uow.session.flush()
            work.expiring.append(late.id)
            work.reminded.append(soon.id)
            work.holds.append(hold.id)
    return work


def _done(work: DueWork) -> int:
    from core.db import get_sessionmaker
    from core.models import AuditLog

    ids = [str(i) for i in [*work.expiring, *work.reminded, *work.holds]]
    actions = ("registration.expired", "payment.reminder_sent", "waitlist.lapsed")
    with get_sessionmaker()() as session:
        return int(
            session.scalar(
                select(func.count(func.distinct(AuditLog.subject_type + AuditLog.subject_id
                                                + AuditLog.action)))
                .where(AuditLog.action.in_(actions), AuditLog.subject_id.in_(ids))
            ) or 0
        )  # fmt: skip


def wait_due(work: DueWork, timeout: float) -> None:
    """Until every seeded item was handled (or ``timeout``): the jobs run on the `low` queue."""
    total = len(work.expiring) + len(work.reminded) + len(work.holds)
    deadline = time.monotonic() + timeout
    while _done(work) < total and time.monotonic() < deadline:
        time.sleep(0.5)


def due_verdict(work: DueWork) -> tuple[dict[str, Any], list[str]]:
    """Each due item done once, after the restart, none missed; the catch-up time."""
    from core.db import get_sessionmaker
    from core.models import AuditLog

    kinds = {
        "registration.expired": ("registration", work.expiring),
        "payment.reminder_sent": ("registration", work.reminded),
        "waitlist.lapsed": ("waitlist_entry", work.holds),
    }
    broken, figures, latest = [], {}, []
    with get_sessionmaker()() as session:
        for action, (subject, ids) in kinds.items():
            rows = session.execute(
                select(AuditLog.subject_id, func.count(), func.min(AuditLog.created_at),
                       func.max(AuditLog.created_at))
                .where(AuditLog.action == action, AuditLog.subject_type == subject,
                       AuditLog.subject_id.in_([str(i) for i in ids]))
                .group_by(AuditLog.subject_id)
            ).all()  # fmt: skip
            done = {r[0]: r for r in rows}
            twice = sum(1 for r in rows if r[1] > 1)
            missed = len(ids) - len(done)
            early = sum(1 for r in rows if work.restarted_at and r[2] < work.restarted_at)
            latest += [r[3] for r in rows]
            figures[action] = f"{len(done)}/{len(ids)}"
            if missed:
                broken.append(f"{missed} {action} missed")
            if twice:
                broken.append(f"{twice} {action} done twice")
            if early:
                broken.append(f"{early} {action} done while the scheduler was stopped")
    if latest and work.restarted_at:
        figures["catch_up_s"] = (max(latest) - work.restarted_at).total_seconds()
    return figures, broken
