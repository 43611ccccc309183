"""All models, imported here so Alembic autogenerate sees every table."""

from core.models.event import Category, Event, JerseyStock, PaymentAccount, Sequence
from core.models.messaging import (
    Conversation,
    InboundUpdate,
    NotificationTemplate,
    OutboundMessage,
)
from core.models.registration import (
    CheckIn,
    CheckinDesk,
    Participant,
    Payment,
    PaymentImage,
    Registration,
    ScanLog,
    StatementLine,
)
from core.models.staff import AdminUser, AuditLog, LoginAttempt

__all__ = [
    "AdminUser",
    "AuditLog",
    "Category",
    "CheckIn",
    "CheckinDesk",
    "Conversation",
    "Event",
    "InboundUpdate",
    "JerseyStock",
    "LoginAttempt",
    "NotificationTemplate",
    "OutboundMessage",
    "Participant",
    "Payment",
    "PaymentImage",
    "PaymentAccount",
    "Registration",
    "ScanLog",
    "Sequence",
    "StatementLine",
]
