"""Service errors. Adapters turn them into chat replies; routes into HTTP codes.

ServiceError                 -- base; ``key`` names a message in the catalogue
 +-- NotFound
 +-- Conflict                -- the state changed under you (already approved, already checked in)
 +-- SoldOut                 -- category quota or jersey stock exhausted
 +-- DuplicateParticipant    -- email or NIK already registered in this event
 +-- RangeExhausted          -- no BIB numbers left in the category's range
 +-- InvalidImage            -- a payment photo failed a check (``key`` says which)
 +-- StorageUnavailable      -- media could not be written (disk full, bucket unreachable)
 +-- InvalidSetting          -- an organiser's setting breaks a rule (the message says which)
 +-- ChannelError            -- a provider refused a message (channels/ raises these)
      +-- ChannelRateLimited -- retry after ``retry_after`` seconds
      +-- ChannelPermanent   -- never retry (blocked by the user, bad number)
      +-- ChannelOutsideWindow -- WhatsApp Cloud: 24 h window closed, a template is needed
      +-- ChannelStopped     -- the provider refuses our credentials: pause the channel, alert
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    key = "error.generic"

    def __init__(self, message: str = "", *, key: str | None = None, **params: Any) -> None:
        super().__init__(message or self.key)
        if key:
            self.key = key
        self.params = params


class NotFound(ServiceError):
    key = "error.not_found"


class Conflict(ServiceError):
    key = "error.conflict"


class SoldOut(ServiceError):
    key = "error.sold_out"


class DuplicateParticipant(ServiceError):
    key = "error.duplicate_participant"


class RangeExhausted(ServiceError):
    key = "error.bib_range_exhausted"


class InvalidImage(ServiceError):
    key = "payment.image_invalid"


class StorageUnavailable(ServiceError):
    """A media write failed (ENOSPC or any OSError locally, any client error on S3).

    Nothing was half-written (writes are atomic); the runner is asked to send the photo again.
    """

    key = "faults.photo_not_stored"


class InvalidSetting(ServiceError):
    """A value the organiser entered breaks a rule; the message says which."""

    key = "admin.invalid_setting"


class ChannelError(ServiceError):
    key = "error.channel"


class ChannelRateLimited(ChannelError):
    def __init__(self, message: str = "", *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ChannelPermanent(ChannelError):
    pass


class ChannelOutsideWindow(ChannelError):
    """WhatsApp Cloud API 131047: free-form text outside the 24-hour customer-service window."""


class ChannelStopped(ChannelError):
    """Bad token or missing permission (Graph 190, 10, 200): retrying only makes a storm."""
