"""Settings: defaults, normalisation and clear errors naming the missing variable."""

from __future__ import annotations

import pytest

from core.config import ConfigError, load_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "PUBLIC_BASE_URL",
        "APP_ENV",
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_WEBHOOK_SECRET",
        "FONNTE_TOKEN",
        "FONNTE_WEBHOOK_SECRET",
        "MEDIA_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return monkeypatch


def test_embedded_defaults(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///./var/funrun.db"
    assert settings.redis_url is None and settings.use_inline_worker
    assert settings.timezone == "Asia/Jakarta" and settings.default_language == "id"
    assert settings.telegram_api_base == "https://api.telegram.org"
    assert settings.fonnte_api_base == "https://api.fonnte.com"
    assert str(settings.media_dir) == "var/media"
    assert settings.simulator_enabled


def test_postgres_url_gets_psycopg_driver(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DATABASE_URL", "postgres://u:p@db:5432/funrun")
    assert load_settings().database_url == "postgresql+psycopg://u:p@db:5432/funrun"


def test_production_names_missing_secret(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("PUBLIC_BASE_URL", "https://run.example.org")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings()


def test_production_requires_webhook_secret_with_token(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("SECRET_KEY", "a-long-random-production-secret")
    clean_env.setenv("PUBLIC_BASE_URL", "https://run.example.org")
    clean_env.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_settings()
    clean_env.setenv("TELEGRAM_WEBHOOK_SECRET", "s3cret")
    clean_env.setenv("FONNTE_TOKEN", "tok")
    with pytest.raises(ConfigError, match="FONNTE_WEBHOOK_SECRET"):
        load_settings()


def test_production_with_everything_is_valid(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("SECRET_KEY", "a-long-random-production-secret")
    clean_env.setenv("PUBLIC_BASE_URL", "https://run.example.org/")
    settings = load_settings()
    assert settings.public_base_url == "https://run.example.org"
    assert settings.secure_cookies and not settings.simulator_enabled


def test_invalid_value_is_a_config_error(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DEFAULT_LANGUAGE", "fr")
    with pytest.raises(ConfigError, match="default_language"):
        load_settings()


def test_env_file_is_read(clean_env: pytest.MonkeyPatch, tmp_path) -> None:
    (tmp_path / ".env").write_text("TIMEZONE=Asia/Makassar\n")
    assert load_settings().timezone == "Asia/Makassar"
