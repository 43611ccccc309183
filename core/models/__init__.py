"""All models, imported here so Alembic autogenerate sees every table."""

from core.models.checkin import CheckIn, CheckinDesk, ScanLog
from core.models.event import Category, Event, JerseyStock, Sequence
from core.models.messaging import (
    Conversation,
    InboundUpdate,
    NotificationTemplate,
    OutboundMessage,
)
from core.models.payment import Payment, PaymentAccount, PaymentImage, StatementLine
from core.models.privacy import DeletionRequest, EventPrivacy
from core.models.registration import Participant, Registration
from core.models.screenshot import EventOcrSetting, ScreenshotCorrection, ScreenshotReading
from core.models.staff import AdminUser, AuditLog, LoginAttempt, RecoveryCode, StaffSession

__all__ = [
    "AdminUser",
    "AuditLog",
    "Category",
    "CheckIn",
    "CheckinDesk",
    "Conversation",
    "DeletionRequest",
    "Event",
    "EventOcrSetting",
    "EventPrivacy",
    "InboundUpdate",
    "JerseyStock",
    "LoginAttempt",
    "NotificationTemplate",
    "OutboundMessage",
    "Participant",
    "Payment",
    "PaymentImage",
    "PaymentAccount",
    "RecoveryCode",
    "Registration",
    "ScanLog",
    "ScreenshotCorrection",
    "ScreenshotReading",
    "Sequence",
    "StaffSession",
    "StatementLine",
]
