"""Runtime configuration, read from the environment and an optional `.env` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-insecure-secret-key-change-me"


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the message names the variable."""


class Settings(BaseSettings):
    """All runtime configuration. Names are UPPER_SNAKE in the environment."""

    model_config = SettingsConfigDict(env_file=".env", env_ignore_empty=True, extra="ignore")

    app_env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./var/funrun.db"
    redis_url: str | None = None
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    # argon2id cost for staff passwords and check-in PINs (argon2-cffi's defaults). The test
    # services lower them: every seeded account and sign-in would otherwise cost ~0.2 s.
    password_hash_time_cost: int = Field(3, ge=1)
    password_hash_memory_kib: int = Field(65536, ge=8)
    public_base_url: str = "http://127.0.0.1:8000"
    media_dir: Path = Path("./var/media")
    # Object storage for photos, letters and tickets (README "Deploying"): s3://bucket/prefix.
    # Unset: files under MEDIA_DIR. Set: MEDIA_DIR holds only per-process scratch and a cache.
    media_url: str | None = None
    # /readyz turns 503 when the local media disk has less free space than this (or is read-only).
    media_min_free_mb: float = 50.0
    # /readyz turns 503 when the scheduler's last heartbeat (written each 1 s tick) is older.
    scheduler_max_age_seconds: float = 5.0
    s3_endpoint_url: str | None = None  # R2, MinIO, Spaces...; unset for AWS itself
    aws_region: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    timezone: str = "Asia/Jakarta"
    default_language: Literal["id", "en"] = "id"
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int = 8000
    # Screenshot OCR (workers/screenshots.py): engine name, per-image time limit, off switch.
    ocr_enabled: bool = True
    ocr_engine: Literal["tesseract", "rapidocr"] = "tesseract"
    ocr_timeout_seconds: float = 20.0

    telegram_bot_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    fonnte_token: SecretStr | None = None
    fonnte_webhook_secret: SecretStr | None = None
    fonnte_api_base: str = "https://api.fonnte.com"
    # Several Fonnte numbers (JSON: {"62811...": "token", ...}): a runner is answered by the
    # number they wrote to; FONNTE_TOKEN stays the default device's token.
    fonnte_devices: dict[str, SecretStr] = {}
    # Pacing (README "Sending pace"): the overall rates pace notifications and bulk; a reply to a
    # runner who wrote within PACE_REPLY_WINDOW_SECONDS is limited per chat and by the bot's or
    # device's ceiling only. Telegram's defaults keep a tenth under its documented 30/s and 1/s.
    fonnte_max_per_second: float = 1.0
    telegram_max_per_second: float = 27.0
    telegram_chat_max_per_second: float = 0.9
    fonnte_chat_max_per_second: float = 1.0
    # Everything one Fonnte device sends, replies included (never below FONNTE_MAX_PER_SECOND).
    fonnte_device_max_per_second: float = 9.0
    pace_reply_window_seconds: float = 60.0
    # A reminder or broadcast due within this long is reserved and sent by the pacer, not queued again.
    pace_sleep_seconds: float = 1.0
    # ... a reply or notification within this long (reserved in arrival order: no chat starves).
    # 60 s: a Fonnte number's backlog of ~540 at 9/s; longer waits are told (PACE_WAIT_NOTICE_SECONDS).
    pace_hold_seconds: float = 60.0
    # A chat whose next message pacing holds back at least this long is told about how long (once).
    pace_wait_notice_seconds: float = 120.0
    pace_recover_seconds: float = 60.0  # after a 429, back from half pace to full over this
    # WhatsApp Cloud API (Meta): the official number beside Fonnte (README "Connecting the official...").
    whatsapp_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_app_id: str | None = None  # only for `funrun whatsapp check` (webhook fields)
    whatsapp_api_base: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v21.0"
    whatsapp_max_per_second: float = 80.0
    # Start links on the admin's event page: wa.me/<number> and t.me/<bot username>.
    whatsapp_public_number: str | None = None  # e.g. 6281234567890 (the number runners write to)
    telegram_bot_username: str | None = None  # e.g. JakartaFunRunBot (without the @)
    # Meta's pair rate: short bursts, then about one message every 6 seconds to one runner.
    whatsapp_pair_per_second: float = 1 / 6
    # Message kind -> approved template name, for messages outside the 24-hour window (JSON in env).
    whatsapp_templates: dict[str, str] = {}
    # Runner language -> template language code in Meta's manager.
    whatsapp_template_languages: dict[str, str] = {"id": "id", "en": "en"}
    smtp_url: str | None = None
    # Who signs receipts (kwitansi); empty: "Panitia <event name>".
    organiser_name: str = ""
    smtp_from: str = "funrun <noreply@funrun.local>"

    simulator: bool | None = None
    payment_max_bytes: int = 5 * 1024 * 1024
    payment_max_pixels: int = 40_000_000
    download_max_bytes: int = 20 * 1024 * 1024
    # Hosts (and their subdomains) runners' media may be fetched from, comma-separated; the hosts of
    # TELEGRAM_API_BASE and FONNTE_API_BASE are always allowed (tests point those at loopback fakes).
    # Meta serves WhatsApp Cloud media from lookaside.fbsbx.com (the media id gives the URL).
    media_allowed_hosts: str = "api.telegram.org,fonnte.com,graph.facebook.com,lookaside.fbsbx.com"
    flood_max_messages: int = 20
    flood_window_seconds: int = 10
    inline_worker: bool | None = None
    metrics_token: SecretStr | None = None  # GET /metrics wants `Authorization: Bearer <token>`
    # Connections per process: pool + overflow. Keep (API processes + worker processes) x total
    # under PostgreSQL's max_connections (100 by default); see the sizing table in the README.
    db_pool_size: int = 5
    # A worker process silent this long counts as dead and its unacknowledged messages go back
    # to the queue (dramatiq's default is 60 s, and its check ran on ~0.1 % of broker commands:
    # a killed worker's messages waited ~69 s). Live workers poll every second, so 8 s is safe;
    # a false alarm only re-runs idempotent jobs. The check runs once per queue per interval in
    # each process (workers.broker.PromptRedisBroker), plus dramatiq's random chance (per million
    # broker commands) as before.
    broker_heartbeat_timeout_ms: int = 8_000
    broker_maintenance_interval_ms: int = 1_000
    broker_maintenance_chance: int = 1_000
    db_max_overflow: int = 10
    # Admins must sign in with a second factor (TOTP): without one they are sent to enrol first.
    require_2fa_for_admins: bool = False

    @field_validator("database_url")
    @classmethod
    def _use_psycopg_driver(cls, value: str) -> str:
        # Hosting providers hand out postgres:// URLs; SQLAlchemy needs the driver spelled out.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @field_validator("telegram_api_base", "fonnte_api_base", "whatsapp_api_base", "public_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _enforce_production_secrets(self) -> Settings:
        if self.app_env != "production":
            return self
        missing = self.missing_production_settings()
        if missing:
            raise ValueError("missing required setting(s) for production: " + ", ".join(missing))
        return self

    def missing_production_settings(self) -> list[str]:
        """Name every variable production needs but does not have."""
        missing = []
        if self.secret_key.get_secret_value() in ("", DEV_SECRET):
            missing.append("SECRET_KEY")
        if self.public_base_url.startswith("http://127.0.0.1"):
            missing.append("PUBLIC_BASE_URL")
        if self.telegram_bot_token and not self.telegram_webhook_secret:
            missing.append("TELEGRAM_WEBHOOK_SECRET")
        if self.fonnte_token and not self.fonnte_webhook_secret:
            missing.append("FONNTE_WEBHOOK_SECRET")
        if self.whatsapp_token and not self.whatsapp_app_secret:
            missing.append("WHATSAPP_APP_SECRET")
        if self.whatsapp_token and not self.whatsapp_verify_token:
            missing.append("WHATSAPP_VERIFY_TOKEN")
        if self.whatsapp_token and not self.whatsapp_phone_number_id:
            missing.append("WHATSAPP_PHONE_NUMBER_ID")
        return missing

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def simulator_enabled(self) -> bool:
        if self.simulator is not None:
            return self.simulator
        return self.app_env == "development" and self.is_sqlite

    @property
    def use_inline_worker(self) -> bool:
        """Run Dramatiq in-process when there is no Redis (the embedded default)."""
        if self.inline_worker is not None:
            return self.inline_worker
        return self.redis_url is None

    @property
    def secure_cookies(self) -> bool:
        return self.public_base_url.startswith("https://")


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into one readable ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return load_settings()
