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
