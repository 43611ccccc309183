"""create_app() sends the providers' POSTs straight to their endpoints (app.main.FunrunApp).

The same requests must reach the same endpoints as through the router, be counted in /metrics,
and everything else (other methods and paths) must still take FastAPI's way.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Match

import webhooks
from tests.channels.helpers import fixture, fonnte_path, tg_headers, wa_post

PATHS = [
    "/webhooks/telegram",
    "/webhooks/telegram/",
    "/webhooks/telegramx",
    "/webhooks/fonnte/s3cret",
    "/webhooks/fonnte/",
    "/webhooks/fonnte",
    "/webhooks/fonnte/a/b",
    "/webhooks/fonnte/%2F",
    "/webhooks/whatsapp",
    "/webhooks/whatsapp/x",
    "/simulator/send",
    "/",
]


def _router_endpoint(method: str, path: str) -> tuple[object, dict[str, str]] | None:
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    routers = (webhooks.telegram, webhooks.fonnte, webhooks.whatsapp, webhooks.simulator)
    for route in [r for module in (*routers, webhooks.start_links) for r in module.router.routes]:
        match, child = route.matches(scope)
        if match is Match.FULL:
            return route.endpoint, child["path_params"]
    return None


@pytest.mark.parametrize("method", ["POST", "GET", "PUT"])
@pytest.mark.parametrize("path", PATHS)
def test_direct_routes_are_the_routers_provider_posts(method: str, path: str) -> None:
    direct = webhooks.direct_route(method, path)
    routed = _router_endpoint(method, path)
    if direct is not None:
        assert routed == direct
    else:  # left to FastAPI: not one of the provider POSTs
        assert routed is None or method != "POST" or "/webhooks/" not in path


def _count(client: TestClient, channel: str, status: int) -> float:
    text = client.get("/metrics").text
    found = re.search(
        rf'^funrun_webhook_requests_total{{channel="{channel}",status="{status}"}} (\S+)$',
        text,
        re.MULTILINE,
    )
    return float(found.group(1)) if found else 0.0


def test_direct_posts_are_counted_and_set_no_cookie(whole: TestClient) -> None:
    before = (_count(whole, "telegram", 200), _count(whole, "telegram", 401))
    ok = whole.post(
        "/webhooks/telegram", json=fixture("telegram", "text_private"), headers=tg_headers()
    )
    refused = whole.post("/webhooks/telegram", json=fixture("telegram", "text_private"))
    assert (ok.status_code, refused.status_code) == (200, 401)
    assert "set-cookie" not in ok.headers
    assert (_count(whole, "telegram", 200), _count(whole, "telegram", 401)) == (
        before[0] + 1,
        before[1] + 1,
    )
    fonnte_before = _count(whole, "fonnte", 200)
    assert whole.post(fonnte_path(), json=fixture("fonnte", "text")).status_code == 200
    assert _count(whole, "fonnte", 200) == fonnte_before + 1
    assert wa_post(whole, {"object": "whatsapp_business_account", "entry": []}).status_code == 200


def test_other_methods_and_paths_take_fastapis_way(whole: TestClient) -> None:
    assert whole.get("/webhooks/telegram").status_code == 405
    assert whole.post("/webhooks/fonnte/a/b", json={}).status_code == 404
    assert whole.get("/webhooks/whatsapp").status_code == 403  # the handshake, wrong token
    assert whole.get("/healthz").json() == {"status": "ok"}
