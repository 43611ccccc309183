from sqlalchemy import select

from core.models import Event


def test_database_is_migrated(session):
    assert session.scalars(select(Event)).all() == []
