"""Each event's privacy notice (the organiser's text per language, else the standard one) and
what PRIVASI / PRIVACY and DATAKU / MYDATA send the runner."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.i18n import t
from core.models import EventPrivacy, Registration
from core.privacy import retention

MAX_NOTICE = 4000  # characters: a chat message, not a contract


def notice_text(privacy: EventPrivacy | None, *, event_name: str, language: str, days: int) -> str:
    """The organiser's notice in ``language`` (English falls back to Indonesian), else standard."""
    own = ""
    if privacy is not None:
        own = (privacy.notice_en or privacy.notice) if language == "en" else privacy.notice
    if own.strip():
        return t("privacy.notice_header", language, event_name=event_name) + "\n\n" + own.strip()
    return t("privacy.notice_standard", language, event_name=event_name, days=days)


def set_notice(session: Session, *, event_id: int, notice: str, notice_en: str, actor: str) -> None:
    row = retention.settings_for(session, event_id, lock=True)
    before = {"notice": row.notice, "notice_en": row.notice_en}
    row.notice, row.notice_en = notice.strip()[:MAX_NOTICE], notice_en.strip()[:MAX_NOTICE]
    after = {"notice": row.notice, "notice_en": row.notice_en}
    if before != after:
        audit.record(session, actor=actor, action="privacy.notice_changed", subject_type="event",
                     subject_id=event_id, before=before, after=after)  # fmt: skip


def for_events(session: Session, event_ids: list[int], language: str) -> list[str]:
    """The notices of these events (the chat's, or every open one), one text each."""
    from core.models import Event  # noqa: PLC0415  (kept next to its one use)

    texts = []
    for event in session.scalars(select(Event).where(Event.id.in_(event_ids)).order_by(Event.id)):
        privacy = session.get(EventPrivacy, event.id)
        days = privacy.retention_days if privacy else retention.DEFAULT_RETENTION_DAYS
        texts.append(notice_text(privacy, event_name=event.name, language=language, days=days))
    return texts


def held_data(session: Session, *, channel: str, chat_id: str, phone: str | None,
              language: str) -> str:  # fmt: skip
    """Everything we hold about the runner of this chat, as one chat text in ``language``."""
    rows = list(session.scalars(
        select(Registration).where(Registration.channel == channel, Registration.chat_id == chat_id)
        .order_by(Registration.id)
    ))  # fmt: skip
    if not rows:
        return t("privacy.mydata_none", language, phone=phone or "")
    items = [_item(session, r, language) for r in rows]
    return (
        t("privacy.mydata_header", language)
        + "\n\n"
        + "\n\n".join(items)
        + "\n\n"
        + t("privacy.mydata_footer", language)
    )


def _item(session: Session, registration: Registration, language: str) -> str:
    p = registration.participant
    privacy = session.get(EventPrivacy, registration.event_id)
    photos = sum(len(pay.images) or (1 if pay.image_path else 0) for pay in registration.payments)
    return t(
        "privacy.mydata_item",
        language,
        number=registration.number,
        event_name=registration.event.name,
        name=p.full_name,
        gender=p.gender or "-",
        date_of_birth=p.date_of_birth,
        email=p.email or "-",
        phone=p.phone or "-",
        nik=_masked(p.nik),
        emergency=" ".join(x for x in (p.emergency_name, p.emergency_phone) if x) or "-",
        blood_type=p.blood_type or "-",
        medical_notes=p.medical_notes or "-",
        jersey=p.jersey_size or "-",
        club=p.club or "-",
        photos=photos,
        purge_date=retention.purge_date(registration.event, privacy),
    )


def _masked(nik: str | None) -> str:
    # The runner knows their NIK; a chat screen seen over a shoulder should not show it whole.
    return f"{nik[:4]}••••••••{nik[-4:]}" if nik and len(nik) >= 8 else (nik or "-")
