"""Server-side staff sessions: one row per signed-in browser, named by the signed cookie.

The cookie alone proves who signed it; the row lets the staff member see where they are signed in
and end a session there and then (a revoked row refuses the next request, whatever the cookie).
Only a summary of the browser and the network prefix of the address are kept, never the address.
"""

from __future__ import annotations

import ipaddress
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit
from core.models import StaffSession

LIFETIME = timedelta(hours=12)  # as long as the signed cookie lives (admin.session.MAX_AGE)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen is written at most this often per session


def start(
    session: Session, *, staff_id: int, user_agent: str, address: str, now: datetime
) -> StaffSession:
    """Record a new signed-in browser; its ``token`` goes into the signed cookie."""
    row = StaffSession(
        token=secrets.token_urlsafe(32),
        staff_id=staff_id,
        user_agent=summarise_agent(user_agent),
        ip_prefix=ip_prefix(address),
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    session.flush()
    return row


def active(session: Session, *, token: str, staff_id: int, now: datetime) -> StaffSession | None:
    """The live session ``token`` names for ``staff_id`` (touching last_seen), or None."""
    row = session.scalar(
        select(StaffSession).where(
            StaffSession.token == token,
            StaffSession.staff_id == staff_id,
            StaffSession.revoked_at.is_(None),
        )
    )
    if row is None or now - row.created_at > LIFETIME:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return row


def list_for(session: Session, *, staff_id: int, now: datetime) -> list[StaffSession]:
    """The staff member's live sessions, most recently seen first."""
    stmt = (
        select(StaffSession)
        .where(
            StaffSession.staff_id == staff_id,
            StaffSession.revoked_at.is_(None),
            StaffSession.created_at > now - LIFETIME,
        )
        .order_by(StaffSession.last_seen_at.desc(), StaffSession.id.desc())
    )
    return list(session.scalars(stmt))


def revoke(session: Session, *, staff_id: int, session_id: int, actor: str, now: datetime) -> bool:
    """End one of ``staff_id``'s own sessions; False when it is not theirs or already ended."""
    done = session.execute(
        update(StaffSession)
        .where(
            StaffSession.id == session_id,
            StaffSession.staff_id == staff_id,
            StaffSession.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    if done.rowcount:  # type: ignore[attr-defined]
        audit.record(session, actor=actor, action="staff.session_revoked",
                     subject_type="staff_session", subject_id=session_id)  # fmt: skip
    return bool(done.rowcount)  # type: ignore[attr-defined]


def revoke_all(
    session: Session,
    *,
    staff_id: int,
    actor: str,
    now: datetime,
    keep_token: str | None = None,
    action: str = "staff.sessions_revoked",
) -> int:
    """End every session of ``staff_id`` except ``keep_token``'s; return how many ended."""
    stmt = update(StaffSession).where(
        StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None)
    )
    if keep_token:
        stmt = stmt.where(StaffSession.token != keep_token)
    count = int(session.execute(stmt.values(revoked_at=now)).rowcount or 0)  # type: ignore[attr-defined]
    audit.record(session, actor=actor, action=action, subject_type="admin_user",
                 subject_id=staff_id, count=count)  # fmt: skip
    return count


def end(session: Session, *, token: str, now: datetime) -> None:
    """Sign-out: the cookie's own session row ends."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.token == token, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def ip_prefix(address: str) -> str:
    """The network an address belongs to (IPv4 /24, IPv6 /48): enough to recognise, not to track."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    bits = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari"))  # fmt: skip
_SYSTEMS = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))  # fmt: skip


def summarise_agent(user_agent: str) -> str:
    """ "Chrome on Android" from a User-Agent header (the full header is not kept)."""
    agent = user_agent or ""
    browser = next((name for mark, name in _BROWSERS if mark in agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in agent), "")
    if "HeadlessChrome" in agent:
        browser = "Headless Chrome"
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"
