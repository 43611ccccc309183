"""A runner's requests about their data: what we hold (DATAKU / MYDATA) and its deletion
(HAPUS DATA / DELETE MY DATA), which an admin honours or declines.

Honouring anonymises every participant registered from that chat except what the law and the
books need (registration number, category, amounts, status, BIB, payment rows and bank statement
lines); photos and letters are removed after the commit; the runner is told in their chat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit, records
from core.errors import Conflict
from core.i18n import t
from core.messages import Reply
from core.messaging import outbox
from core.models import (
    AdminUser,
    AuditLog,
    Conversation,
    DeletionRequest,
    InboundUpdate,
    OutboundMessage,
    Registration,
)
from core.privacy import erase


class RequestStatus(StrEnum):
    PENDING = "pending"
    HONOURED = "honoured"
    DECLINED = "declined"


@dataclass
class Honoured:
    request: DeletionRequest
    registrations: int = 0
    paths: list[str] = field(default_factory=list)  # files to remove once committed
    notices: list[OutboundMessage] = field(default_factory=list)  # to deliver once committed


def open_request(session: Session, conversation: Conversation) -> tuple[DeletionRequest, bool]:
    """The chat's pending request, or a new one; True when it was created now."""
    existing = session.scalar(
        select(DeletionRequest).where(
            DeletionRequest.channel == conversation.channel,
            DeletionRequest.chat_id == conversation.chat_id,
            DeletionRequest.status == RequestStatus.PENDING.value,
        )
    )
    if existing is not None:
        return existing, False
    row = DeletionRequest(channel=conversation.channel, chat_id=conversation.chat_id,
                          conversation_id=conversation.id, language=conversation.language,
                          status=RequestStatus.PENDING.value)  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, actor=f"{conversation.channel}:{conversation.id}",
                 action="privacy.deletion_requested", subject_type="deletion_request",
                 subject_id=row.id)  # fmt: skip
    return row, True


def pending(session: Session) -> list[DeletionRequest]:
    stmt = select(DeletionRequest).order_by(
        (DeletionRequest.status != RequestStatus.PENDING.value), DeletionRequest.id.desc()
    )
    return list(session.scalars(stmt.limit(200)))


def registrations_of(session: Session, request: DeletionRequest) -> list[Registration]:
    stmt = select(Registration).where(
        Registration.channel == request.channel, Registration.chat_id == request.chat_id
    )
    return list(session.scalars(stmt.order_by(Registration.id)))


def _decidable(session: Session, request_id: int) -> DeletionRequest:
    request = records.get(session, DeletionRequest, request_id, lock=True)
    if request.status != RequestStatus.PENDING.value:
        raise Conflict("this request was already decided", key="privacy.already_decided")
    return request


def decline(
    session: Session, *, request_id: int, staff: AdminUser, now: datetime
) -> DeletionRequest:
    """Decline (e.g. a race still to run needs the entry); the runner is told to contact the organiser."""
    request = _decidable(session, request_id)
    _decide(session, request, RequestStatus.DECLINED, staff, now)
    _tell(session, request, "privacy.delete_declined")
    return request


def honour(session: Session, *, request_id: int, staff: AdminUser, now: datetime) -> Honoured:
    """Anonymise everything the chat's registrations hold about the runner (see module doc)."""
    request = _decidable(session, request_id)
    rows = registrations_of(session, request)
    ids = [r.id for r in rows]
    result = Honoured(request, registrations=len(rows))
    result.paths = erase.photos(session, ids) + erase.letters(session, ids, names=True)
    for registration in rows:
        erase.everything(registration.participant)
        registration.ticket_token = None  # the QR named the runner at the desk
    _scrub_messages(session, request)
    _scrub_audit(session, ids, [r.participant_id for r in rows])
    _decide(session, request, RequestStatus.HONOURED, staff, now, registrations=len(rows))
    result.notices = _tell(session, request, "privacy.delete_done")
    for registration in rows:  # after the notice: STATUS from this chat no longer finds them
        registration.chat_id = f"erased:{request.id}"
    return result


def _decide(session: Session, request: DeletionRequest, status: RequestStatus, staff: AdminUser,
            now: datetime, **counts: int) -> None:  # fmt: skip
    request.status, request.decided_by_id, request.decided_at = status.value, staff.id, now
    audit.record(session, actor=staff.email, action=f"privacy.deletion_{status.value}",
                 subject_type="deletion_request", subject_id=request.id, **counts)  # fmt: skip


def notices_of(session: Session, request_id: int) -> list[OutboundMessage]:
    """The messages written to the runner about this request (to deliver after the commit)."""
    stmt = select(OutboundMessage).where(
        OutboundMessage.idempotency_key.like(f"deletion:{request_id}:%")
    )
    return list(session.scalars(stmt))


def _tell(session: Session, request: DeletionRequest, key: str) -> list[OutboundMessage]:
    language = session.scalar(
        select(Conversation.language).where(Conversation.id == request.conversation_id)
    )
    row = outbox.write(session, channel=request.channel, recipient=request.chat_id,
                       reply=Reply(t(key, language or request.language)),
                       idempotency_key=f"deletion:{request.id}:{key}",
                       priority=outbox.PRIORITY_NOTIFICATION,
                       conversation_id=request.conversation_id)  # fmt: skip
    return [row]


def _scrub_messages(session: Session, request: DeletionRequest) -> None:
    """The chat's stored messages both ways held the answers; the chat's draft and name go too."""
    session.execute(
        update(InboundUpdate)
        .where(
            InboundUpdate.channel == request.channel,
            InboundUpdate.chat_id == request.chat_id,
            InboundUpdate.processed_at.is_not(None),
        )  # fmt: skip
        .values(payload={}, message={})
    )
    session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.channel == request.channel,
            OutboundMessage.recipient == request.chat_id,
            OutboundMessage.status.in_(("sent", "failed")),
        )  # fmt: skip
        .values(text="", media_path=None, extra={})
    )
    conversation = session.get(Conversation, request.conversation_id or 0)
    if conversation is not None:
        conversation.sender_name, conversation.phone = None, None
        conversation.state, conversation.answers = "idle", {}


def _scrub_audit(session: Session, registration_ids: list[int], participant_ids: list[int]) -> None:
    """Audit rows keep who did what and when; the values they recorded about the runner go."""
    subjects = [("registration", str(i)) for i in registration_ids]
    subjects += [("participant", str(i)) for i in participant_ids]
    for subject_type, subject_id in subjects:
        session.execute(
            update(AuditLog)
            .where(AuditLog.subject_type == subject_type, AuditLog.subject_id == subject_id)
            .values(before={}, after={}, data={})
        )
