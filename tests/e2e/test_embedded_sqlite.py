"""The `make run` default, end to end: SQLite, the in-process broker, worker thread and scheduler.

`funrun migrate`, `funrun demo` and `funrun serve` run as real subprocesses with no REDIS_URL and a
SQLite DATABASE_URL; a whole registration, payment photo, approval, e-ticket and check-in included,
is driven over HTTP (simulator and admin). No Redis or PostgreSQL is involved in the served process.
The last test runs the production topology instead: `funrun serve` + `funrun worker` over Redis.
"""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw

from core.demo import DEMO_ADMIN
from tests.answers import answers_for
from tests.e2e.conftest import scan_twice, staff_login
from tests.qr import decode_qr

ROOT = Path(__file__).resolve().parents[2]
XHR = {"accept": "application/json", "x-requested-with": "XMLHttpRequest"}
PHONE = "081277778888"
LATE_PHONE = "6281299990000"
ANSWERS = ["DAFTAR", *answers_for("whatsapp", category="10K", full_name="Rina Wati",
                                  date_of_birth="02-02-1992", email="rina.embedded@example.com",
                                  jersey_size="S", blood_type="B"), "YA"]  # fmt: skip

# A message the webhook stored just before the process went down: its enqueue was lost with the
# in-memory broker, so only the scheduler's sweep can bring it back after the restart.
STORE_BEFORE_RESTART = f"""
from datetime import timedelta
from core.db import unit_of_work, utcnow
from core.enums import Channel
from core.messages import InboundMessage
from core.messaging import inbox
message = InboundMessage(channel=Channel.SIMULATOR, external_id="sim-before-restart",
                         chat_id="{LATE_PHONE}", phone="{LATE_PHONE}", text="DAFTAR")
with unit_of_work() as uow:
    row = inbox.record_inbound(uow.session, message)
    row.received_at = utcnow() - timedelta(minutes=5)
"""


def embedded_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a newcomer's `make run`: no Redis, SQLite, development mode."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "INLINE_WORKER")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path}/var/funrun.db",  # var/ does not exist yet
        MEDIA_DIR=str(tmp_path / "var" / "media"),
        APP_ENV="development",
        SIMULATOR="1",
        FLOOD_MAX_MESSAGES="1000",
    )
    return env


def funrun(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"funrun serve exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"funrun serve did not come up: {log.read_text()[-3000:]}")


@contextmanager
def running(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run `funrun <args>` in its own process group; stop it (and anything it left) afterwards."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # children it failed to stop (a failing test)


@dataclass
class Embedded:
    base_url: str
    admin_password: str


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Embedded]:
    """`funrun migrate && funrun demo && funrun serve` on SQLite, as `make run` does."""
    env = embedded_env(tmp_path)
    funrun(env, "migrate")
    seeded = re.search(
        r"admin login: \S+\s+password: (\S+)", funrun(env, "demo", "--if-empty").stdout
    )
    assert seeded, "demo did not print the admin password"
    subprocess.run([sys.executable, "-c", STORE_BEFORE_RESTART], cwd=ROOT, env=env, check=True)
    port = free_port()
    with running(["serve", "--port", str(port)], env, tmp_path / "serve.log") as proc:
        wait_healthy(proc, f"http://127.0.0.1:{port}", tmp_path / "serve.log")
        yield Embedded(f"http://127.0.0.1:{port}", seeded.group(1))


def replies(client: httpx.Client, phone: str = PHONE) -> list[dict[str, Any]]:
    r = client.get("/simulator/messages", params={"phone": phone})
    assert r.status_code == 200
    return [m for m in r.json()["messages"] if m["dir"] == "out"]


def wait_reply(client: httpx.Client, before: int, phone: str = PHONE) -> list[dict[str, Any]]:
    """Poll until the bot answered (more outbound messages than ``before``); return them all."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = replies(client, phone)
        if len(found) > before:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no reply from the embedded worker; got {replies(client, phone)!r}")


def send(client: httpx.Client, text: str = "", image: bytes | None = None) -> list[str]:
    """Send like the simulator page does, wait for the answer; return every bot text so far."""
    before = len(replies(client))
    files = {"image": ("bukti.png", image, "image/png")} if image else None
    r = client.post("/simulator/send", data={"phone": PHONE, "text": text}, files=files)
    assert r.status_code == 200 and r.json() == {"ok": True}
    return [m["text"] for m in wait_reply(client, before)]


def screenshot_png() -> bytes:
    image = Image.new("RGB", (360, 640), (250, 250, 250))
    ImageDraw.Draw(image).rectangle((30, 80, 330, 220), fill=(20, 140, 60))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def register_and_pay(client: httpx.Client) -> str:
    """Chat a whole registration, send the transfer screenshot; return the registration number."""
    for text in ANSWERS:
        texts = send(client, text)
    instructions = next(t for t in texts if "Silakan transfer" in t)
    number = re.search(r"JFR-10K-\d+", instructions)
    assert number, instructions
    assert "Rp250." in instructions  # 10K price plus the unique code
    texts = send(client, image=screenshot_png())
    assert any("sudah kami terima" in t and number.group() in t for t in texts)
    return number.group()


def approve_and_fetch_ticket(client: httpx.Client, server: Embedded) -> bytes:
    """Approve the payment in the admin; return the e-ticket PNG the bot sent to the chat."""
    admin, csrf = staff_login(server.base_url, DEMO_ADMIN, server.admin_password)
    with closing(admin):
        payment = re.search(r'data-payment-id="(\d+)"', admin.get("/admin/queue").text)
        assert payment, "the payment is not in the verification queue"
        r = admin.post(
            f"/admin/payments/{payment.group(1)}/approve", headers={**XHR, "x-csrf-token": csrf}
        )
        assert r.status_code == 200 and r.json()["changed"] is True, r.text
    deadline = time.monotonic() + 30
    while not (images := [m["image"] for m in replies(client) if m["image"]]):
        assert time.monotonic() < deadline, "no e-ticket from the embedded worker"
        time.sleep(0.1)
    [url] = images
    return client.get(url).content


@pytest.mark.sqlite
def test_make_run_default_from_chat_to_check_in(embedded: Embedded) -> None:
    with httpx.Client(base_url=embedded.base_url, timeout=10) as client:
        assert client.get("/readyz").json() == {"status": "ok"}  # SQLite up, no broker to ping
        page = client.get("/simulator", params={"phone": PHONE})
        assert page.status_code == 200 and "6281277778888" in page.text

        number = register_and_pay(client)
        token = decode_qr(approve_and_fetch_ticket(client, embedded))

        desk, _ = staff_login(embedded.base_url, DEMO_ADMIN, embedded.admin_password)
        with closing(desk):
            first, second = scan_twice(desk, token)
        assert first["outcome"] == "ok" and first["number"] == number and first["bib"]
        assert second["outcome"] == "already"
        status = [t for t in send(client, "STATUS") if number in t and "Lunas" in t]
        assert status and first["bib"] in status[-1]

        # The scheduler's sweep picked up the message stored before the "restart".
        late = wait_reply(client, 0, phone=LATE_PHONE)
        assert any("Jakarta Fun Run" in m["text"] for m in late)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_and_worker_processes_over_redis(
    demo_event: int, redis_client: Any, tmp_path: Path
) -> None:
    """docker-compose's api + worker: a chat answered across processes; SIGTERM stops every child."""
    env = {**os.environ, "SIMULATOR": "1", "MEDIA_DIR": str(tmp_path / "media")}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    worker_args = ["worker", "--processes", "1", "--threads", "2"]
    with (
        running(["serve", "--port", str(port)], env, tmp_path / "serve.log") as api,
        running(worker_args, env, tmp_path / "worker.log") as worker,
    ):
        wait_healthy(api, base, tmp_path / "serve.log")
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/readyz").json() == {"status": "ok"}  # Postgres and Redis reachable
            r = client.post("/simulator/send", data={"phone": PHONE, "text": "DAFTAR"})
            assert r.status_code == 200
            assert any("Jakarta Fun Run" in m["text"] for m in wait_reply(client, 0))

        worker.send_signal(signal.SIGTERM)  # what `docker stop` does to the worker container
        assert worker.wait(timeout=30) == 0, (tmp_path / "worker.log").read_text()[-3000:]
        deadline = time.monotonic() + 10
        while group_alive(worker.pid):  # Dramatiq processes and the scheduler must stop too
            assert time.monotonic() < deadline, "funrun worker left processes behind"
            time.sleep(0.1)
