"""String enums stored as plain strings (adding a member needs no ALTER TYPE)."""

from enum import StrEnum


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    # The official Meta WhatsApp Cloud API number (WHATSAPP_PHONE_NUMBER_ID); chat_id is the wa_id.
    WHATSAPP_CLOUD = "whatsapp_cloud"
    SIMULATOR = "simulator"


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


# Statuses that hold a slot and jersey stock.
ACTIVE_STATUSES = (
    RegistrationStatus.PENDING_PAYMENT,
    RegistrationStatus.AWAITING_VERIFICATION,
    RegistrationStatus.PARTIALLY_PAID,
    RegistrationStatus.PAID,
    RegistrationStatus.REJECTED,
)


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
