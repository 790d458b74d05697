"""Shared fixtures: a migrated operational database on SQLite and on PostgreSQL.

PostgreSQL tests create a database of their own next to the one named by
``PROPCLOUD_TEST_PG_URL`` (default: the local server's ``test`` database) and drop it after.
If the server cannot be reached they are skipped, and ``.ci/run`` fails on any skip.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from operational import auth
from operational.db import create_db_engine
from operational.imports.org import ensure_group
from tests.db_support import PG_ADMIN_URL, migrated

# Password hashing at production cost (argon2's defaults, ≈ 0.25 s a hash and check) is what
# makes logins slow to guess; tests log in and create demo users by the hundred, so in this
# process they hash at the lowest cost. Hashes carry their parameters, so checking, re-hashing
# and the equal work for unknown names behave as in production. Servers the browser tests start
# are other processes and keep the production cost.
auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

_MAIN_MODULE = sys.modules["__main__"]


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """Put back the worker's ``__main__`` after each test.

    Streamlit's script runner installs the page it runs as ``__main__`` and leaves it there; a
    process started afterwards with the ``spawn`` method would then run that page on start-up.
    """
    yield
    sys.modules["__main__"] = _MAIN_MODULE


def _postgres_database() -> Iterator[str]:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"propcloud_t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as con:
            con.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the server is down or unreachable
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as con:
            # and Dagster's, which a pipeline run against this database creates beside it
            # (propcloud.dagster_instance)
            for database in (name, f"{name}_dagster"):
                con.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def fresh_database_url(backend: str, tmp_dir: os.PathLike[str]) -> Iterator[str]:
    """A new, empty database on ``backend`` ('sqlite' or 'postgres'), removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{os.fspath(tmp_dir)}/propcloud-{uuid.uuid4().hex[:8]}.db"
    else:
        yield from _postgres_database()


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database migrated to head with the group row, shared by a test session per backend."""
    for url in fresh_database_url(request.param, tmp_path_factory.mktemp("db")):
        migrated(url)
        engine = create_db_engine(url)
        with Session(engine) as session, session.begin():
            ensure_group(session, "YY", "一应物业集团")
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = create_db_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose every change is rolled back after the test (commits become savepoints)."""
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as s:
            yield s
        transaction.rollback()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep ``--dist loadgroup`` grouping by ``xdist_group`` under pytest 9.2.

    An xdist worker tells the controller a test's group by appending ``@<group>`` to its node
    id; pytest-xdist 3.8 does that by writing ``item._nodeid``, which pytest 9.2 no longer reads
    (node ids are structured): the groups were silently ignored and every browser test module,
    and every module sharing an expensive module-scoped fixture, was spread over both workers,
    each starting its own servers and making its own fixtures. Here the suffix is put on the
    structured id, as xdist means it to be (nothing to do where xdist's own suffix took).
    """
    if not hasattr(config, "workerinput") or not config.getvalue("loadgroup"):
        return
    for item in items:
        names = sorted(
            {
                str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                for mark in item.iter_markers("xdist_group")
            }
        )
        suffix = f"@{'_'.join(names)}"
        if names and not item.nodeid.endswith(suffix) and hasattr(item, "_id"):
            from _pytest.nodeid import coerce_node_id  # pytest >= 9.2 only

            item._id = coerce_node_id(item.nodeid + suffix)


_SKIPPED_REQUIRED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and ("postgres" in report.keywords or "browser" in report.keywords):
        _SKIPPED_REQUIRED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (PROPCLOUD_FORBID_SKIPS=1) a skipped PostgreSQL or browser test fails the run."""
    if os.environ.get("PROPCLOUD_FORBID_SKIPS") == "1" and _SKIPPED_REQUIRED:
        print(f"\n{len(_SKIPPED_REQUIRED)} PostgreSQL/browser test(s) were skipped:")
        for nodeid in _SKIPPED_REQUIRED:
            print(f"  {nodeid}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
