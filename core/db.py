"""Engine, sessions and the unit of work, portable between PostgreSQL and SQLite.

PostgreSQL is production and runs every concurrency test. SQLite is the embedded default: there every
write transaction starts with BEGIN IMMEDIATE, so writers are serialised and `with_for_update()` (a no-op
on SQLite) is still safe.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    MetaData,
    TypeDecorator,
    bindparam,
    create_engine,
    event,
    insert,
    text,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from core.config import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both databases (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use core.clock.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Return the current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself so it can be BEGIN IMMEDIATE (writers serialised).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with the per-dialect setup funrun relies on."""
    # Bound values are runners' names, phones and messages: keep them out of SQL logs and errors.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


DEFAULT_LOCK_TIMEOUT = "3s"


@lru_cache
def get_engine() -> Engine:
    """Return the process-wide engine, built lazily from settings.

    On PostgreSQL every connection starts with ``lock_timeout`` at the unit of work's default, so a
    unit of work does not spend a round trip on ``SET LOCAL`` (one of about five per transaction),
    and checkouts are not pinged (another): a connection broken by a database restart fails its
    first use, SQLAlchemy then discards the whole pool, and the caller's retry (Dramatiq's, or the
    provider's after a 503) runs on fresh connections. ``pool_recycle`` retires idle ones.
    """
    settings = get_settings()
    if settings.is_sqlite:
        return make_engine(settings.database_url)
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={"options": f"-c lock_timeout={DEFAULT_LOCK_TIMEOUT}"},
    )
    engine.funrun_lock_timeout = DEFAULT_LOCK_TIMEOUT  # type: ignore[attr-defined]
    return engine


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


def reset_engine() -> None:
    """Dispose the cached engine (tests switch databases; forks need fresh pools)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()
    _autocommit_engine.cache_clear()


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


class UnitOfWork:
    """A session inside one transaction, plus callbacks to run after it commits."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._after_commit: list[Callable[[], object]] = []

    def on_commit(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` after a successful commit; dropped if the transaction rolls back."""
        self._after_commit.append(fn)


@contextmanager
def unit_of_work(*, lock_timeout: str = DEFAULT_LOCK_TIMEOUT) -> Iterator[UnitOfWork]:
    """Open one transaction: commit on exit, roll back on exception, then run on-commit callbacks."""
    with get_sessionmaker()() as session, session.begin():
        bind = session.get_bind()
        preset = getattr(bind, "funrun_lock_timeout", None)
        if preset != lock_timeout and bind.dialect.name == "postgresql":
            session.execute(text(f"SET LOCAL lock_timeout = '{lock_timeout}'"))
        uow = UnitOfWork(session)
        yield uow
    for fn in uow._after_commit:
        fn()


@lru_cache
def _autocommit_engine() -> Engine:
    # The same pool; a checkout through this view is in autocommit until it is returned.
    return get_engine().execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def one_statement() -> Iterator[Connection]:
    """A connection for one Core statement that is a transaction on its own (an UPDATE after a send).

    On PostgreSQL it runs in autocommit: one round trip, where a unit of work adds BEGIN and
    COMMIT (and no Session is set up). Elsewhere (SQLite) it is a unit of work's connection. Never
    for several statements that must commit together, nor for on-commit callbacks.
    """
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        with unit_of_work() as uow:
            yield uow.session.connection()
        return
    with _autocommit_engine().connect() as connection:
        yield connection


def insert_ignore(
    session: Session, table: Any, rows: Sequence[dict[str, Any]], *, keys: list[str]
) -> int:
    """INSERT ... ON CONFLICT DO NOTHING on either dialect; return the number of inserted rows."""
    if not rows:
        return 0
    dialect = postgresql if is_postgres(session) else sqlite
    stmt = dialect.insert(table).values(list(rows)).on_conflict_do_nothing(index_elements=keys)
    # Count RETURNING rows: psycopg reports rowcount -1 for this multi-VALUES statement.
    primary_key = list(table.primary_key.columns)
    if primary_key:
        return len(session.execute(stmt.returning(*primary_key)).all())
    return max(session.execute(stmt).rowcount or 0, 0)


_INSERTS: dict[Any, Any] = {}


def insert_now(session: Session, obj: Any) -> None:
    """INSERT a new ORM object right away with one cached Core statement and make it persistent,
    clean and loaded, as a flush would leave it, without the unit of work's flush machinery.

    Every column is given (its value, else its Python default, else NULL), so one compiled
    statement serves each model; only the primary key comes back (RETURNING). The caller sets
    foreign keys as columns (relationships given as well are kept as loaded, never synced).
    """
    table = sa_inspect(type(obj)).local_table
    stmt = _INSERTS.get(table)
    if stmt is None:
        stmt = _INSERTS[table] = insert(table).returning(*table.primary_key.columns)
    values = {}
    for column in table.columns:
        if column.primary_key:
            continue
        value = obj.__dict__.get(column.key, _MISSING)
        if value is _MISSING:
            value = _python_default(column)
            setattr(obj, column.key, value)
        values[column.key] = value
    row = session.execute(stmt, values).one()
    for column, value in zip(table.primary_key.columns, row, strict=True):
        setattr(obj, column.key, value)
    make_transient_to_detached(obj)
    session.add(obj)


_MISSING = object()


def update_now(session: Session, obj: Any) -> None:
    """UPDATE a loaded ORM object's changed columns right away with one Core statement and leave
    it clean, as a flush would, without the unit of work's flush machinery (its cost per object
    is several times the statement's).

    Only plain column attributes of a single-table model; a version counter
    (``version_id_col``) is checked and bumped as the ORM does, a lost race raising StaleDataError.
    Nothing changed: no statement.
    """
    state = sa_inspect(obj)
    mapper = state.mapper
    columns = mapper.column_attrs
    if any(key not in columns for key in state.committed_state):
        return  # a relationship changed: the flush does it
    changed = {key: state.dict[key] for key in state.committed_state if key in state.dict}
    if not changed:
        return
    table = mapper.local_table
    (pk,) = table.primary_key.columns
    params = {"_pk": getattr(obj, pk.key)}
    version = mapper.version_id_col
    if version is not None:
        current = state.committed_state.get(version.key, state.dict[version.key])
        changed[version.key] = current + 1
        params["_version"] = current
    params.update((f"_set_{key}", value) for key, value in changed.items())
    statement = _update_statement(mapper, tuple(changed))
    with session.no_autoflush:  # an autoflush would write this very object the ORM's way first
        result = session.execute(statement, params)
    if result.rowcount != 1:
        raise StaleDataError(f"{table.name} {getattr(obj, pk.key)}: updated by another transaction")
    for key, value in changed.items():
        set_committed_value(obj, key, value)


_UPDATES: dict[tuple[Any, tuple[str, ...]], Any] = {}


def _update_statement(mapper: Any, keys: tuple[str, ...]) -> Any:
    """update_now's UPDATE for these changed attributes, built once (building a statement and its
    cache key cost more than running it). Parameters: _pk, _version, _set_<key>."""
    found = _UPDATES.get((mapper, keys))
    if found is not None:
        return found
    table, columns = mapper.local_table, mapper.column_attrs
    (pk,) = table.primary_key.columns
    where = [pk == bindparam("_pk", type_=pk.type)]
    version = mapper.version_id_col
    if version is not None:
        where.append(version == bindparam("_version", type_=version.type))
    values = {}
    for key in keys:
        column = columns[key].columns[0]
        values[column] = bindparam(f"_set_{key}", type_=column.type)
    if len(_UPDATES) > 512:  # a handful of column sets in practice; never unbounded
        _UPDATES.clear()
    statement = _UPDATES[(mapper, keys)] = update(table).where(*where).values(values)
    return statement


def _python_default(column: Any) -> Any:
    default = column.default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


def lock_key(*parts: object) -> int:
    """A stable signed 64-bit advisory-lock key for ``parts`` (joined with ":", e.g. "chat", id)."""
    name = ":".join(str(part) for part in parts)
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


_ADVISORY_XACT_LOCK = text("SELECT pg_advisory_xact_lock(:k)")


def advisory_xact_lock(session: Session, key: int) -> None:
    """Take a transaction-scoped advisory lock on PostgreSQL (SQLite already serialises writers)."""
    if is_postgres(session):
        session.execute(_ADVISORY_XACT_LOCK, {"k": key})


def skip_locked(session: Session) -> dict[str, bool]:
    """Keyword arguments for with_for_update(): SKIP LOCKED where the database has it."""
    return {"skip_locked": True} if is_postgres(session) else {}


def ping(session: Session) -> str | None:
    """Readiness: None when the database answers, else a short reason."""
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001  (any failure means "not ready")
        return f"database unreachable: {type(exc).__name__}"
    return None
