"""The warehouse build a run writes: where it reads from, where it publishes, at which instant."""

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from operational.settings import load_settings
from warehouse import versions
from warehouse.extract import database_backend
from warehouse.models import RUN_PARAMS, write_run_params
from warehouse.publish import KEEP_VERSIONS, Warehouse

WAREHOUSE_POOL = "warehouse"  # every step that writes a build file runs in this pool (limit 1)

# Build files held open for a whole in-process run (see ``shared_connections``): path → connection.
_SHARED: dict[Path, duckdb.DuckDBPyConnection] = {}
_SHARING: list[bool] = []
_STEPS_DONE: dict[Path, int] = {}  # build file → steps of its run finished in this process


@dataclass
class BuildSteps:
    """How many steps a whole build has (set where the assets are defined), for its progress."""

    total: int | None = None


BUILD_STEPS = BuildSteps()

# Build settings: no insertion order to keep (every mart states its own order), so DuckDB may
# stream and spill instead of buffering whole intermediate results.
# DuckDB's buffer manager keeps up to 80 % of the machine's memory unless bounded: with
# PROPCLOUD_WAREHOUSE_MEMORY_LIMIT (DuckDB syntax, e.g. 2500MB) a large build spills to disk
# instead. Unset by default: measured at 22 M readings it trades memory for a slower build and
# a slower daily query of a point (docs/operations.md, docs/benchmarks.md).
_MEMORY_LIMIT = os.environ.get("PROPCLOUD_WAREHOUSE_MEMORY_LIMIT", "").strip()
# Every connection a build opens — the writers' and the checks' read-only ones — has the same
# bound. DuckDB spills what does not fit to ``<build file>.tmp/`` (its default temp_directory for
# a database file), inside ``building/``: deleted with the build if the process dies, and
# emptied by DuckDB as each query ends.
_READ_CONFIG: dict[str, str | bool | int | float | list[str]] = (
    {"memory_limit": _MEMORY_LIMIT} if _MEMORY_LIMIT else {}
)
_BUILD_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "preserve_insertion_order": False,
    **_READ_CONFIG,
}


@contextmanager
def shared_connections() -> Iterator[None]:
    """Within this block, each run's build file is opened once and shared by its steps.

    Opening and closing (checkpointing) a multi-hundred-MB build file in each step (and in each
    step's checks) costs a second or more per run; ``pipelines.run.run_pipeline`` runs every
    step in this process, so it opens the file once. Steps get their own cursor (temporary
    tables do not leak between steps).
    Outside this block (e.g. a multi-process executor) every step opens and closes the file.
    """
    _SHARING.append(True)
    try:
        yield
    finally:
        _SHARING.pop()
        if not _SHARING:
            close_shared()


def close_shared(path: Path | None = None) -> None:
    """Close (and so checkpoint) the shared connection of ``path`` (default: all of them)."""
    for key in [path] if path is not None else list(_SHARED):
        con = _SHARED.pop(key, None) if key is not None else None
        if con is not None:
            con.close()


@dataclass(frozen=True)
class BuildLocation:
    """Where builds read from and publish to. Not part of any run config: a run launched from
    the UI or its GraphQL API cannot point a build at another database or directory. The code
    location takes it from the installation's settings (the environment) when it loads."""

    database_url: str
    warehouse_dir: str
    keep_versions: int = KEEP_VERSIONS

    @classmethod
    def from_settings(cls) -> "BuildLocation":
        settings = load_settings()
        return cls(
            settings.database_url, str(settings.warehouse_dir), settings.warehouse_keep_versions
        )


class WarehouseBuild(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The private build of one run: ``<warehouse_dir>/building/<run_id>.duckdb``.

    The first step of a run to open it begins the build (from a copy of the current published
    version, so incremental extraction only adds what is new) and records the run parameters;
    each later step opens the same file read-write in turn, and reads it for its checks;
    ``published_warehouse`` publishes it.

    Its only run config is ``as_of``; the database and the warehouse directory are a
    :class:`BuildLocation` given in code (:meth:`from_settings`: ``PROPCLOUD_DATABASE_URL`` /
    ``PROPCLOUD_WAREHOUSE_DIR``), which run config cannot name.
    """

    location: dg.ResourceDependency[BuildLocation]
    as_of: str | None = Field(
        default=None, description="ISO instant the build is evaluated at; default: when it begins."
    )

    @classmethod
    def from_settings(cls) -> "WarehouseBuild":
        """The build of this installation, as its environment says."""
        return cls(location=BuildLocation.from_settings())

    @classmethod
    def at(
        cls,
        database_url: str,
        warehouse_dir: str | Path,
        *,
        as_of: str | None = None,
        keep_versions: int = KEEP_VERSIONS,
    ) -> "WarehouseBuild":
        """A build reading ``database_url`` and publishing into ``warehouse_dir``."""
        location = BuildLocation(database_url, str(warehouse_dir), keep_versions)
        return cls(location=location, as_of=as_of)

    @property
    def database_url(self) -> str:
        return self.location.database_url

    @property
    def warehouse_dir(self) -> str:
        return self.location.warehouse_dir

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(Path(self.warehouse_dir), keep_versions=self.location.keep_versions)

    def build_path(self, run_id: str) -> Path:
        return self.warehouse.build_path(run_id)

    @contextmanager
    def connect(
        self, run_id: str, *, transaction: bool = True
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """The run's build file, open read-write, begun if this is the run's first writer.

        With ``transaction`` (the default) what the step writes is one transaction, committed
        when the block ends and rolled back if it raises: a step's tables are written whole or
        not at all, and a refresh's few hundred small statements (bookkeeping, a mart's changed
        keys) pay one commit (a sync of the write-ahead log) instead of one each
        (docs/warehouse.md, *Build steps are transactions*). Publishing checkpoints, which DuckDB
        does not do inside a transaction: it passes ``transaction=False``.
        """
        path = self.build_path(run_id)
        first = not path.exists()
        if first:
            self.warehouse.begin_build(run_id, incremental=True)
        shared = _SHARED.get(path)
        if shared is None and _SHARING:
            shared = _SHARED[path] = duckdb.connect(str(path), config=_BUILD_CONFIG)
        with (
            shared.cursor()
            if shared is not None
            else duckdb.connect(str(path), config=_BUILD_CONFIG) as con
        ):
            if first:
                _STEPS_DONE[path] = 0
                write_run_params(
                    con,
                    version=run_id,
                    as_of=self.as_of_instant(),
                    database_backend=database_backend(self.database_url),
                )
                tracked = versions.Versions.load(con)
                tracked.changed(RUN_PARAMS)  # new every build: its readers are rebuilt
                tracked.save(con)
            if not transaction:
                yield con
            else:
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                except BaseException:
                    with suppress(duckdb.Error):  # the step's own error is the one to report
                        con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
        # A step has written its tables: say so for the pages (publishing is the last step).
        _STEPS_DONE[path] = _STEPS_DONE.get(path, 0) + 1
        if path.exists():
            self.warehouse.report_progress(run_id, _STEPS_DONE[path], BUILD_STEPS.total)

    def release(self, run_id: str) -> None:
        """Close the run's shared connection, if any (before the file is published or discarded)."""
        close_shared(self.build_path(run_id))
        _STEPS_DONE.pop(self.build_path(run_id), None)

    @contextmanager
    def read(self, run_id: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """Read-only: the run's build if it has one, else the current published version."""
        path = self.build_path(run_id)
        shared = _SHARED.get(path)
        if shared is not None:  # the run's own writer: read through it (same process)
            with shared.cursor() as cursor:
                yield cursor
            return
        if not path.exists():
            current = self.warehouse.current_path()
            if current is None:
                raise FileNotFoundError("no build in this run and nothing published yet")
            path = current
        with duckdb.connect(str(path), read_only=True, config=_READ_CONFIG) as con:
            yield con

    def as_of_instant(self) -> datetime:
        if self.as_of is None:
            return datetime.now(UTC)
        instant = datetime.fromisoformat(self.as_of)
        return instant if instant.tzinfo else instant.replace(tzinfo=UTC)
