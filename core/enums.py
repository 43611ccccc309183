"""String enums stored as plain strings (adding a member needs no ALTER TYPE)."""

from enum import StrEnum


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    # The official Meta WhatsApp Cloud API number (WHATSAPP_PHONE_NUMBER_ID); chat_id is the wa_id.
    WHATSAPP_CLOUD = "whatsapp_cloud"
    SIMULATOR = "simulator"
    EMAIL = "email"  # outbound only: e-ticket emails (no conversation runs on it)


# The longest photo caption a channel accepts, in UTF-16 code units (channels not listed: no limit).
# Telegram counts after entity parsing; the raw text (with its *markup*) is never shorter than what
# it counts, so a text within the limit always fits. The outbox splits a longer one off the photo.
CAPTION_LIMITS: dict[str, int] = {Channel.TELEGRAM: 1024}


def caption_fits(channel: str, text: str) -> bool:
    """Whether ``text`` can go out as one photo's caption on ``channel``."""
    limit = CAPTION_LIMITS.get(channel)
    return limit is None or len(text.encode("utf-16-le")) // 2 <= limit


class EventStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class RegistrationStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    AWAITING_VERIFICATION = "awaiting_verification"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


# Registration status groups: the one list of them. Members compare equal to the stored strings,
# so ``registration.status in GROUP`` works; SQL takes ``values(GROUP)``.
# Statuses that hold a slot and jersey stock.
ACTIVE_STATUSES = (
    RegistrationStatus.PENDING_PAYMENT,
    RegistrationStatus.AWAITING_VERIFICATION,
    RegistrationStatus.PARTIALLY_PAID,
    RegistrationStatus.PAID,
    RegistrationStatus.REJECTED,
)
# Statuses in which the runner still owes money: they keep their amount key and may send photos.
AWAITING_STATUSES = (
    RegistrationStatus.PENDING_PAYMENT,
    RegistrationStatus.AWAITING_VERIFICATION,
    RegistrationStatus.PARTIALLY_PAID,
    RegistrationStatus.REJECTED,
)
# Deliberate subsets of AWAITING_STATUSES:
# owing the whole amount (nothing received yet, none refused); a bank-statement credit may pay a
# group of these at once, and reports count their amount_due in full.
OWING_IN_FULL_STATUSES = (
    RegistrationStatus.PENDING_PAYMENT,
    RegistrationStatus.AWAITING_VERIFICATION,
)
# only these expire: a photo (awaiting_verification) or money already received (partially_paid)
# waits for a human instead.
EXPIRING_STATUSES = (
    RegistrationStatus.PENDING_PAYMENT,
    RegistrationStatus.REJECTED,
)


def values(statuses: tuple[RegistrationStatus, ...]) -> list[str]:
    """The stored strings of a status group (for SQL ``IN``)."""
    return [status.value for status in statuses]


class PaymentStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


class UniqueCodeMode(StrEnum):
    ADD = "add"
    SUBTRACT = "subtract"
    OFF = "off"


class OutboundStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # WhatsApp Cloud API: outside the 24-hour window with no template; sent on the runner's next message.
    WAITING = "waiting"


class WhatsAppProvider(StrEnum):
    """Which WhatsApp number an event publishes: the Fonnte device or the official Cloud API."""

    FONNTE = "fonnte"
    CLOUD = "cloud"


class Role(StrEnum):
    ADMIN = "admin"
    VERIFIER = "verifier"
    CHECKIN = "checkin"


class QuestionKind(StrEnum):
    """What an organiser-defined question accepts."""

    TEXT = "text"
    NUMBER = "number"
    CHOICE = "choice"
    YES_NO = "yes_no"
    DATE = "date"


class LetterStatus(StrEnum):
    """A minor's parental consent letter, as the verifier judged it."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
