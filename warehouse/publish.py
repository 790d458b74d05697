"""Build privately, publish atomically: the only way a warehouse version becomes visible.

Layout of a warehouse directory::

    building/<build_id>.duckdb   private files being built (one writer each)
    versions/<version>.duckdb    published files, never written again
    versions/<version>.format    the build format (a digest of the warehouse code) that made it
    CURRENT                      the published version readers open, replaced atomically

A DuckDB file is open either by one read-write process or by many read-only ones, never both.
So a build writes its own file under ``building/``, checkpoints and closes it, and
:meth:`Warehouse.publish` renames it into ``versions/`` and then swaps ``CURRENT``. Readers only
ever open published files, read-only: they never see a half-built version, and a failed build
(discarded, or simply never published) leaves the published version untouched.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
import uuid
from collections import OrderedDict
from functools import cache
from pathlib import Path

import duckdb

KEEP_VERSIONS = 3
READER_CONNECTIONS = 4  # published versions a process keeps open for reading
_BUILD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_PACKAGE = Path(__file__).parent


@cache
def code_format(package: Path = _PACKAGE) -> str:
    """A digest of the warehouse code (every .py and .sql file of the package).

    An incremental build continues the tables of the version before it, so it may only start
    from a version that the same code built: after an upgrade the next build starts empty.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".sql")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class Warehouse:
    """The published DuckDB warehouse in ``directory`` and the private builds that replace it."""

    def __init__(self, directory: Path, build_format: str | None = None) -> None:
        self.directory = Path(directory)
        self.build_format = build_format or code_format()
        self.building_dir = self.directory / "building"
        self.versions_dir = self.directory / "versions"
        self.pointer = self.directory / "CURRENT"

    def build_path(self, build_id: str) -> Path:
        """Where the private file of build ``build_id`` lives (whether or not it exists yet)."""
        if not _BUILD_ID.fullmatch(build_id):
            raise ValueError(f"not a usable build id: {build_id!r}")
        return self.building_dir / f"{build_id}.duckdb"

    def version_path(self, version: str) -> Path:
        return self.versions_dir / f"{version}.duckdb"

    def begin_build(self, build_id: str, *, incremental: bool = False) -> Path:
        """Create the private file of a new build; its version, once published, is ``build_id``.

        With ``incremental`` the file starts as a copy of the current published version (so
        incremental extraction and models only add what is new) if the same warehouse code
        built it; otherwise it starts empty and the build recomputes everything.
        """
        path = self.build_path(build_id)
        self.building_dir.mkdir(parents=True, exist_ok=True)
        if path.exists():
            raise FileExistsError(f"build {build_id} has already begun: {path}")
        current = self.current_path()
        if incremental and current is not None and self._format_of(current) == self.build_format:
            shutil.copyfile(current, path)
        else:
            duckdb.connect(str(path)).close()
        return path

    def publish(self, path: Path) -> Path:
        """Make the closed, checkpointed build at ``path`` the current version; return its path.

        The newest ``KEEP_VERSIONS`` versions are kept (readers that opened an older one keep
        reading it until they close it); older ones are deleted.
        """
        path = Path(path)
        if path.parent.resolve() != self.building_dir.resolve():
            raise ValueError(f"not a build of this warehouse: {path}")
        if _wal(path).exists():
            raise RuntimeError(f"build is not checkpointed and closed (a WAL exists): {path}")
        target = self.version_path(path.stem)
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(target.with_suffix(".format"), self.build_format)
        path.replace(target)
        os.utime(target)  # the modification time orders versions by publication
        _write_atomically(self.pointer, path.stem)
        self._prune(keep=path.stem)
        return target

    def discard(self, path: Path) -> None:
        """Delete a private build (and its WAL); the published version is not touched."""
        path = Path(path)
        if path.parent.resolve() != self.building_dir.resolve():
            raise ValueError(f"not a build of this warehouse: {path}")
        path.unlink(missing_ok=True)
        _wal(path).unlink(missing_ok=True)

    def current_version(self) -> str | None:
        try:
            return self.pointer.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def current_path(self) -> Path | None:
        """The published file to open read-only, or None if nothing has been published yet."""
        version = self.current_version()
        return None if version is None else self.version_path(version)

    def _prune(self, keep: str) -> None:
        versions = sorted(self.versions_dir.glob("*.duckdb"), key=_mtime, reverse=True)
        for old in versions[KEEP_VERSIONS:]:
            if old.stem not in (keep, self.current_version()):
                old.unlink(missing_ok=True)
                old.with_suffix(".format").unlink(missing_ok=True)

    @staticmethod
    def _format_of(version: Path) -> str | None:
        try:
            return version.with_suffix(".format").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None


_readers: OrderedDict[Path, duckdb.DuckDBPyConnection] = OrderedDict()
_readers_lock = threading.Lock()


def published_connection(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published file ``path``, opened once per process.

    A published file never changes, so one connection per version serves every later query
    (opening a file costs tens of milliseconds). Run each query on its own ``.cursor()`` (safe
    across threads). The least recently used versions beyond ``READER_CONNECTIONS`` are closed;
    a version pruned from disk stays readable through its open connection until then.
    """
    key = Path(path)
    with _readers_lock:
        con = _readers.get(key)
        if con is not None:
            _readers.move_to_end(key)
            return con
        con = duckdb.connect(str(key), read_only=True)
        _readers[key] = con
        while len(_readers) > READER_CONNECTIONS:
            _readers.popitem(last=False)[1].close()
        return con


def close_published_connections() -> None:
    """Close every connection :func:`published_connection` holds (tests, benchmarks)."""
    with _readers_lock:
        while _readers:
            _readers.popitem()[1].close()


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:  # pruned by a concurrent publish
        return -1


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
