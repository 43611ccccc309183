"""Names with RTL override, zero-width and combining marks, and emoji: shown as typed in the admin."""

from __future__ import annotations

import pytest

from tests.admin.test_queue import make_waiting

NAMES = [
    "Budi \u202eosotnaS\u202c",
    "A\u200bn\u200di",
    "Ze\u0301\u0301\u0301 Lo",
    "Sari \U0001f3c3\u200d\u2640\ufe0f",
]


@pytest.mark.parametrize("name", NAMES)
def test_admin_pages_show_hostile_unicode_as_text(client_for, seeded, name: str) -> None:
    reg_id, _ = make_waiting(seeded.event_id, full_name=name)
    client, _ = client_for("verifier")
    for path in ("/admin/queue", f"/admin/registrations/{reg_id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert name in response.text, path  # kept exactly, inside escaped HTML text
