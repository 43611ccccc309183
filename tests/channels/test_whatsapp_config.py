"""Start-up checks for the WhatsApp Cloud API settings."""

from __future__ import annotations

import pytest

from core.config import ConfigError, load_settings

PRODUCTION = {
    "app_env": "production",
    "secret_key": "a-real-secret-key-for-production-use",
    "public_base_url": "https://funrun.example",
    "telegram_bot_token": None,
    "fonnte_token": None,
}


@pytest.mark.parametrize(
    ("missing", "values"),
    [
        ("WHATSAPP_APP_SECRET", {"whatsapp_verify_token": "v", "whatsapp_phone_number_id": "1"}),
        ("WHATSAPP_VERIFY_TOKEN", {"whatsapp_app_secret": "s", "whatsapp_phone_number_id": "1"}),
        ("WHATSAPP_PHONE_NUMBER_ID", {"whatsapp_app_secret": "s", "whatsapp_verify_token": "v"}),
    ],
)
def test_production_refuses_a_token_without_its_secrets(
    missing: str, values: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_PHONE_NUMBER_ID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match=missing):
        load_settings(**PRODUCTION, whatsapp_token="EAAG", **values)


def test_production_accepts_a_complete_cloud_api_setup() -> None:
    settings = load_settings(
        **PRODUCTION,
        whatsapp_token="EAAG",
        whatsapp_app_secret="s",
        whatsapp_verify_token="v",
        whatsapp_phone_number_id="1",
        whatsapp_templates={"payment_reminder": "funrun_payment_reminder"},
    )
    assert settings.whatsapp_max_per_second == 80.0
    assert settings.whatsapp_api_base == "https://graph.facebook.com"
    assert settings.whatsapp_templates["payment_reminder"] == "funrun_payment_reminder"
