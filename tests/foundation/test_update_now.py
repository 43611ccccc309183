"""core.db.update_now: one Core UPDATE of a loaded object's changes, as the ORM's flush would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from core.db import update_now
from core.models import Conversation


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    engine = session.get_bind().engine
    sqlalchemy.event.listen(engine, "before_cursor_execute", note)
    yield seen
    sqlalchemy.event.remove(engine, "before_cursor_execute", note)


def _conversation(session: Session) -> Conversation:
    conversation = Conversation(channel="telegram", chat_id="update-now")
    session.add(conversation)
    session.flush()
    return conversation


def test_writes_the_changed_columns_and_bumps_the_version(
    session: Session, statements: list[str]
) -> None:
    conversation = _conversation(session)
    conversation.state, conversation.answers = "collect", {"name": "Siti"}
    statements.clear()
    update_now(session, conversation)
    assert len(statements) == 1 and statements[0].startswith("UPDATE conversations SET")
    assert conversation.version == 2
    statements.clear()
    session.flush()
    assert statements == []  # clean: the flush has nothing left to write
    conversation.answers["bib_name"] = "SITI"
    flag_modified(conversation, "answers")  # an in-place change, declared
    update_now(session, conversation)
    session.expire_all()
    stored = session.get(Conversation, conversation.id)
    assert stored is not None and stored.state == "collect" and stored.version == 3
    assert stored.answers == {"name": "Siti", "bib_name": "SITI"}


def test_nothing_changed_is_no_statement(session: Session, statements: list[str]) -> None:
    conversation = _conversation(session)
    statements.clear()
    update_now(session, conversation)
    assert statements == []


def test_a_row_changed_meanwhile_is_a_stale_data_error(session: Session) -> None:
    conversation = _conversation(session)
    session.execute(
        sqlalchemy.update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(version=Conversation.version + 1)
        .execution_options(synchronize_session=False)
    )
    conversation.state = "collect"
    with pytest.raises(StaleDataError):
        update_now(session, conversation)


def test_the_same_changes_reuse_one_statement_with_their_own_values(session: Session) -> None:
    from datetime import UTC, datetime

    from core import db

    first, second = _conversation(session), Conversation(channel="telegram", chat_id="other")
    session.add(second)
    session.flush()
    at = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    first.answers, first.last_activity_at = {"name": "Siti"}, at
    update_now(session, first)
    built = dict(db._UPDATES)
    second.answers, second.last_activity_at = {"name": "Budi"}, None
    update_now(session, second)
    assert db._UPDATES == built  # built once for these columns
    session.expire_all()
    one, two = session.get(Conversation, first.id), session.get(Conversation, second.id)
    assert one is not None and one.answers == {"name": "Siti"} and one.last_activity_at == at
    assert two is not None and two.answers == {"name": "Budi"} and two.last_activity_at is None
    assert one.version == two.version == 2
