"""create_app() sends the providers' POSTs straight to their endpoints (app.main.FunrunApp).

The same requests must reach the same endpoints as through the router, be counted in /metrics,
and everything else (other methods and paths) must still take FastAPI's way.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from sqlalchemy.exc import DataError
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


async def _raise_teapot(request: Request) -> Response:
    raise HTTPException(418, "no coffee here", headers={"X-Reason": "teapot"})


async def _raise_invalid(request: Request) -> Response:
    raise RequestValidationError([{"loc": ("body",), "msg": "bad", "type": "value_error"}])


async def _raise_data_error(request: Request) -> Response:
    raise DataError("INSERT ...", {}, ValueError("out of range"))


async def _raise_other(request: Request) -> Response:
    raise LookupError("a bug")


@pytest.mark.parametrize(
    "endpoint", [_raise_teapot, _raise_invalid, _raise_data_error, _raise_other]
)
def test_direct_dispatch_answers_exceptions_as_the_router_does(endpoint: Any) -> None:
    """An endpoint's HTTPException (or another handled exception) gets the router path's answer."""
    from app.main import FunrunApp, create_app

    app = create_app()
    assert isinstance(app, FunrunApp)
    app.add_api_route("/raise", endpoint, methods=["POST"])

    async def direct(scope: Any, receive: Any, send: Any) -> None:
        # What FunrunApp.__call__ does for a provider POST, with this endpoint.
        scope["app"], scope["endpoint"], scope["path_params"] = app, endpoint, {}
        await app._build_direct_stack()(scope, receive, send)  # noqa: SLF001

    answers = []
    for asgi in (app, direct):
        answer = TestClient(asgi, raise_server_exceptions=False).post("/raise", json={})
        answers.append((answer.status_code, answer.headers.get("x-reason"), answer.text))
    assert answers[0] == answers[1]
    expected = {_raise_teapot: 418, _raise_invalid: 422, _raise_data_error: 422, _raise_other: 500}
    assert answers[0][0] == expected[endpoint]
