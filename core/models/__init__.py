"""All models, imported here so Alembic autogenerate sees every table."""

from core.models.broadcast import Broadcast, BroadcastOptOut, BroadcastRecipient
from core.models.changes import Refund, RevokedTicket
from core.models.checkin import CheckIn, CheckinDesk, ScanLog
from core.models.event import CatalogVersion, Category, Event, JerseyStock, Sequence
from core.models.group import RegistrationGroup
from core.models.messaging import (
    Conversation,
    EarlyReceipt,
    InboundUpdate,
    NotificationTemplate,
    OutboundMessage,
)
from core.models.payment import Payment, PaymentAccount, PaymentImage, StatementLine
from core.models.pricing import PriceTier, Voucher
from core.models.privacy import DeletionRequest, EventPrivacy
from core.models.questions import ConsentLetter, EventQuestion
from core.models.registration import Participant, Registration
from core.models.screenshot import EventOcrSetting, ScreenshotCorrection, ScreenshotReading
from core.models.staff import (
    AdminUser,
    AuditLog,
    DeploymentSetting,
    LoginAttempt,
    RecoveryCode,
    StaffSession,
)
from core.models.waitlist import WaitlistEntry

__all__ = [
    "AdminUser",
    "AuditLog",
    "CatalogVersion",
    "DeploymentSetting",
    "Broadcast",
    "BroadcastOptOut",
    "BroadcastRecipient",
    "Category",
    "CheckIn",
    "CheckinDesk",
    "ConsentLetter",
    "Conversation",
    "DeletionRequest",
    "EarlyReceipt",
    "Event",
    "EventOcrSetting",
    "EventQuestion",
    "EventPrivacy",
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
    "RecoveryCode",
    "Registration",
    "RegistrationGroup",
    "Refund",
    "RevokedTicket",
    "ScanLog",
    "ScreenshotCorrection",
    "ScreenshotReading",
    "Sequence",
    "Voucher",
    "StaffSession",
    "StatementLine",
    "WaitlistEntry",
]
