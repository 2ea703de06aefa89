"""The database engine and the session factory. SQLite is the embedded default; PostgreSQL in production."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from sqlmodel import Session, create_engine

from core.errors import DatabaseBusy
from core.settings import Settings

SessionFactory = Callable[[], Session]
T = TypeVar("T")


def make_engine(
    url: str, *, pool_size: int = 20, max_overflow: int = 10, pool_timeout: float = 10.0,
    busy_timeout: float = 15.0,
) -> Engine:
    """An engine for `url`. SQLite gets WAL, foreign keys and a busy timeout (`busy_timeout` seconds: a writer
    waits that long for another's lock) so that the API and the worker share the file. The connection pool holds
    `pool_size` connections (plus `max_overflow` at a peak); a request that finds none free within `pool_timeout`
    seconds answers 503 (`DatabaseBusy`) instead of waiting for ever."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    pooling = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout}, **pooling)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **pooling)


def engine_of(settings: Settings) -> Engine:
    """The engine the settings describe (MEDIATION_DATABASE_URL and the MEDIATION_DB_* knobs)."""
    return make_engine(settings.effective_database_url, pool_size=settings.db_pool_size,
                       max_overflow=settings.db_max_overflow, pool_timeout=settings.db_pool_timeout_seconds,
                       busy_timeout=settings.db_busy_timeout_seconds)


def is_contention(error: BaseException) -> bool:
    """The database is busy, not broken: SQLite's lock held past the busy timeout, PostgreSQL's lock or statement
    timeout, a serialization conflict, or no free connection in the pool."""
    if isinstance(error, SATimeoutError):
        return True
    if not isinstance(error, OperationalError | DBAPIError):
        return False
    text = str(getattr(error, "orig", error)).lower()
    return any(sign in text for sign in ("database is locked", "database table is locked", "lock timeout",
                                         "could not obtain lock", "deadlock detected",
                                         "could not serialize access", "canceling statement due to"))


def busy(error: BaseException, retry_after: int = 5) -> DatabaseBusy:
    return DatabaseBusy(f"the database is busy ({type(error).__name__}); nothing was changed by this request: "
                        f"repeat it in {retry_after} s", retry_after=retry_after)


def session_factory(engine: Engine) -> SessionFactory:
    def factory() -> Session:
        return Session(engine, expire_on_commit=False)

    return factory


def unit_of_work(factory: SessionFactory, work: Callable[[Session], T], *, attempts: int = 3) -> T:
    """`work` in a transaction of its own, committed once; tried again (from the start, after a short pause) while
    the database is busy, then answered `DatabaseBusy` (503 with Retry-After). `work` must be safe to repeat: it
    reads what it needs inside the transaction."""
    for attempt in range(1, attempts + 1):
        try:
            with transaction(factory) as session:
                return work(session)
        except Exception as error:  # noqa: BLE001 - only contention is retried, the rest goes on up
            if not is_contention(error):
                raise
            if attempt == attempts:
                raise busy(error) from error
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


@contextmanager
def transaction(factory: SessionFactory) -> Iterator[Session]:
    """One unit of work: commit once at the end, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
