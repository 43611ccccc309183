"""All models, imported here so Alembic autogenerate sees every table."""

from core.models.changes import RevokedTicket
from core.models.checkin import CheckIn, CheckinDesk, ScanLog
from core.models.event import Category, Event, JerseyStock, Sequence
from core.models.messaging import (
    Conversation,
    InboundUpdate,
    NotificationTemplate,
    OutboundMessage,
)
from core.models.payment import Payment, PaymentAccount, PaymentImage, StatementLine
from core.models.pricing import PriceTier, Voucher
from core.models.registration import Participant, Registration
from core.models.screenshot import EventOcrSetting, ScreenshotCorrection, ScreenshotReading
from core.models.staff import AdminUser, AuditLog, LoginAttempt

__all__ = [
    "AdminUser",
    "AuditLog",
    "Category",
    "CheckIn",
    "CheckinDesk",
    "Conversation",
    "Event",
    "EventOcrSetting",
    "InboundUpdate",
    "JerseyStock",
    "LoginAttempt",
    "NotificationTemplate",
    "OutboundMessage",
    "Participant",
    "PriceTier",
    "Payment",
    "PaymentImage",
    "PaymentAccount",
    "Registration",
    "RevokedTicket",
    "ScanLog",
    "ScreenshotCorrection",
    "ScreenshotReading",
    "Sequence",
    "Voucher",
    "StatementLine",
]
