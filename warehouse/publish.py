"""Build privately, publish atomically: the only way a warehouse version becomes visible.

Layout of a warehouse directory::

    building/<build_id>.duckdb   private files being built (one writer each)
    building/<build_id>.lock     held (``flock``) by the process building it, while it lives
    building/<build_id>.progress the steps of the build done and in all (JSON), for the pages
    versions/<version>.duckdb    published files, never written again
    versions/<version>.format    the build format (a digest of the warehouse code) that made it
    CURRENT                      the published version readers open, replaced atomically

A DuckDB file is open either by one read-write process or by many read-only ones, never both.
So a build writes its own file under ``building/``, checkpoints and closes it, and
:meth:`Warehouse.publish` renames it into ``versions/`` and then swaps ``CURRENT``. Readers only
ever open published files, read-only: they never see a half-built version, and a failed build
(discarded, or simply never published) leaves the published version untouched.

**Spare versions.** An incremental build must start from an earlier version of the warehouse,
and copying the current one (gigabytes at group scale) would cost more than the refresh itself.
So a build first tries to *take* a superseded version — one that is neither current nor open by
any reader — and continue it where it is: everything incremental in the warehouse catches up from
the state stored in its own file, whether that is one build behind or several. The version is
renamed out of ``versions/`` (no reader can open it any more) and then opened read-write: DuckDB
locks a file for as long as any process has it open, so a version some reader still holds is
refused and put back untouched. Only when no spare can be taken is the current version copied.
Readers keep open only the newest version they have read and those with a query running
(:func:`published_cursor`), so an idle dashboard does not pin old versions.

**Housekeeping.** A build killed mid-way (kill -9, a lost machine) leaves its private file, a
full-size copy, in ``building/``. The process that begins a build holds an exclusive ``flock`` on
``building/<build_id>.lock`` until it publishes or discards the build, or dies (the system then
drops the lock). So every :meth:`Warehouse.begin_build` first deletes the files of the builds
whose lock nobody holds (:meth:`Warehouse.clean_building`) and never touches one whose lock is
held. A build belongs to the process that began it: its steps must run in that process (the
in-process executor). Published versions beyond the newest ``keep_versions`` are deleted at each
publish.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import duckdb

KEEP_VERSIONS = 3
"""Published versions kept by default: the current one and two spares for the next builds."""
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


@dataclass(frozen=True)
class RunningBuild:
    """A build under way in some living process, as far as it has got."""

    build_id: str
    started_at: datetime
    """When the build began (UTC)."""
    done: int
    """Steps finished (extraction, each layer of models, the Python marts, publishing)."""
    total: int | None
    """Steps in all; None when the build has not said."""


class Warehouse:
    """The published DuckDB warehouse in ``directory`` and the private builds that replace it."""

    def __init__(
        self,
        directory: Path,
        build_format: str | None = None,
        keep_versions: int = KEEP_VERSIONS,
    ) -> None:
        if keep_versions < 1:
            raise ValueError(f"at least the current version must be kept, not {keep_versions}")
        self.directory = Path(directory)
        self.build_format = build_format or code_format()
        self.keep_versions = keep_versions
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

        What builds no longer running left behind is deleted first; this process owns the new
        build (its lock) until :meth:`publish` or :meth:`discard`.
        """
        path = self.build_path(build_id)
        self.building_dir.mkdir(parents=True, exist_ok=True)
        self.clean_building()
        if path.exists():
            raise FileExistsError(f"build {build_id} has already begun: {path}")
        _claim(_lock(path))  # before the file exists: a build file without a lock is abandoned
        current = self.current_path()
        if incremental and current is not None and self._format_of(current) == self.build_format:
            if not self._take_spare(path):
                shutil.copyfile(current, path)
        else:
            duckdb.connect(str(path)).close()
        return path

    def _take_spare(self, path: Path) -> bool:
        """Move the newest superseded version nobody reads to ``path``; False if there is none.

        The candidate is renamed first (so no reader can start to open it) and then opened
        read-write, which DuckDB refuses while any other process has it open; in this process,
        the files it holds open are skipped. A refused candidate is renamed back untouched.
        """
        current = self.current_version()
        spares = sorted(
            (
                version
                for version in self.versions_dir.glob("*.duckdb")
                if version.stem != current and self._format_of(version) == self.build_format
            ),
            key=_mtime,
            reverse=True,
        )
        with _readers_lock:  # this process's readers cannot open a version meanwhile
            held = _files_open_here()
            for spare in spares:
                if spare.resolve() in held or _wal(spare).exists():
                    continue
                try:
                    spare.rename(path)
                except FileNotFoundError:  # pruned or taken by a concurrent build
                    continue
                try:
                    duckdb.connect(str(path)).close()
                except duckdb.IOException:  # another process still reads it
                    path.rename(spare)
                    continue
                spare.with_suffix(".format").unlink(missing_ok=True)
                return True
        return False

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
        path.with_suffix(".progress").unlink(missing_ok=True)
        _disown(_lock(path))
        os.utime(target)  # the modification time orders versions by publication
        _write_atomically(self.pointer, path.stem)
        self._prune(keep=path.stem)
        return target

    def discard(self, path: Path) -> None:
        """Delete a private build (and its WAL); the published version is not touched."""
        path = Path(path)
        if path.parent.resolve() != self.building_dir.resolve():
            raise ValueError(f"not a build of this warehouse: {path}")
        _remove_build(path)
        _disown(_lock(path))

    def clean_building(self) -> list[str]:
        """Delete the files of every build in ``building/`` that no living process owns (killed
        mid-way, or begun and never published); return their ids. A build whose lock is held —
        a running build, in this process or another — is left alone."""
        try:
            entries = [entry.name for entry in self.building_dir.iterdir()]
        except FileNotFoundError:
            return []
        ids = {build_id for name in entries if (build_id := _build_id_of(name))}
        removed = []
        for build_id in sorted(ids):
            path = self.building_dir / f"{build_id}.duckdb"
            with _unowned(_lock(path)) as unowned:
                if unowned:
                    _remove_build(path)
                    removed.append(build_id)
        for name in entries:  # a lock file being created when its process died
            if name.startswith(".") and ".lock." in name:
                with _unowned(self.building_dir / name):
                    pass
        return removed

    def report_progress(self, build_id: str, done: int, total: int | None) -> None:
        """Record that build ``build_id`` has finished ``done`` of its ``total`` steps, for
        :meth:`running_builds` in other processes (a page showing the build's progress)."""
        path = self.build_path(build_id).with_suffix(".progress")
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps({"done": done, "total": total}), encoding="utf-8")
        tmp.replace(path)

    def running_builds(self) -> list[RunningBuild]:
        """The builds some living process is running now, oldest first (none if no build runs).

        A build runs while its lock is held; what killed builds left behind is not running."""
        try:
            locks = sorted(self.building_dir.glob("*.lock"))
        except FileNotFoundError:
            return []
        running = []
        for lock in locks:
            try:
                started = datetime.fromtimestamp(lock.stat().st_mtime, UTC)
            except FileNotFoundError:
                continue
            if not _held(lock):
                continue
            try:
                said = json.loads(lock.with_suffix(".progress").read_text(encoding="utf-8"))
                done, total = int(said["done"]), said["total"]
            except (FileNotFoundError, ValueError, KeyError, TypeError):
                done, total = 0, None
            running.append(RunningBuild(lock.stem, started, done, int(total) if total else None))
        return sorted(running, key=lambda build: build.started_at)

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
        for old in versions[self.keep_versions :]:
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
_in_use: dict[Path, int] = {}
_newest: dict[Path, Path] = {}  # warehouse directory → the version this process opened last
_readers_lock = threading.Lock()


@contextmanager
def published_cursor(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on the published file ``path``, read-only; its connection is opened once.

    A published file never changes, so one connection per version serves every later query
    (opening a file costs tens of milliseconds); each query gets its own cursor (safe across
    threads). When the process moves on to a newer version, the connections of older ones are
    closed as soon as no query runs on them, so a later build can take them as spares (see
    :meth:`Warehouse.begin_build`); a version pruned from disk stays readable until then.
    """
    key = Path(path)
    with _readers_lock:
        con = _readers.get(key)
        if con is None:
            con = duckdb.connect(str(key), read_only=True)
            _readers[key] = con
            _newest[key.parent] = key
        _readers.move_to_end(key)
        _in_use[key] = _in_use.get(key, 0) + 1
        _close_idle()
    try:
        with con.cursor() as cursor:
            yield cursor
    finally:
        with _readers_lock:
            _in_use[key] -= 1
            if not _in_use[key]:
                del _in_use[key]
            _close_idle()


def _close_idle() -> None:
    """Close connections to versions older than the newest read of their warehouse (or beyond
    ``READER_CONNECTIONS``) that no query is using; the caller holds ``_readers_lock``."""
    newest = set(_newest.values())
    surplus = len(_readers) - READER_CONNECTIONS
    for key in list(_readers):
        if key in _in_use or (key in newest and surplus <= 0):
            continue
        _readers.pop(key).close()
        surplus -= 1


def close_published_connections() -> None:
    """Close every connection the readers of this process hold (tests, benchmarks)."""
    with _readers_lock:
        while _readers:
            _readers.popitem()[1].close()
        _newest.clear()


def _files_open_here() -> set[Path]:
    """The files this process has open (Linux: ``/proc/self/fd``; elsewhere its readers' files)."""
    found = {key.resolve() for key in _readers}
    fds = Path("/proc/self/fd")
    try:
        links = list(fds.iterdir())
    except OSError:
        return found
    for link in links:
        try:
            target = str(link.readlink())
        except OSError:
            continue
        if target.startswith("/"):
            found.add(Path(target.removesuffix(" (deleted)")))
    return found


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:  # pruned by a concurrent publish
        return -1


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


# ---------------------------------------------------------------- who owns a build

_BUILD_FILE = re.compile(
    r"(?P<id>[A-Za-z0-9][A-Za-z0-9_.-]*?)\.(?:lock|progress|duckdb(?:\.wal|\.tmp)?)"
)
_owned: dict[Path, int] = {}  # lock file → the descriptor holding its flock, in this process
_owned_lock = threading.Lock()


def _lock(path: Path) -> Path:
    """The lock file of the build file ``path``."""
    return path.with_suffix(".lock")


def _build_id_of(name: str) -> str | None:
    """The build a file of ``building/`` belongs to (its file, WAL, spill folder or lock)."""
    match = _BUILD_FILE.fullmatch(name)
    return match.group("id") if match else None


def _claim(lock: Path) -> None:
    """Create ``lock`` already locked by this process: written and locked under a draft name,
    then linked into place, so no other process ever sees it unlocked while its owner lives."""
    draft = lock.with_name(f".{lock.name}.{uuid.uuid4().hex}")
    fd = os.open(draft, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.link(draft, lock)
    except BaseException:
        os.close(fd)
        raise
    finally:
        draft.unlink(missing_ok=True)
    with _owned_lock:
        _owned[lock] = fd


def _disown(lock: Path) -> None:
    """The build of ``lock`` is over (published or discarded): delete its lock file, and give up
    the lock if this process holds it."""
    lock.unlink(missing_ok=True)
    with _owned_lock:
        fd = _owned.pop(lock, None)
    if fd is not None:
        os.close(fd)


@contextmanager
def _unowned(lock: Path) -> Iterator[bool]:
    """Whether the build of ``lock`` has no living owner; if so, the lock is held here until the
    block has removed the build, and then deleted. A missing lock file has no owner."""
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # its build is running
            yield False
            return
        yield True
        lock.unlink(missing_ok=True)
    finally:
        os.close(fd)


def _held(lock: Path) -> bool:
    """Whether a living process holds ``lock`` (its build is running); the lock is only tested,
    never taken or removed."""
    try:
        fd = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _remove_build(path: Path) -> None:
    """Delete a build's file, its progress, its WAL and DuckDB's spill folder next to it."""
    path.unlink(missing_ok=True)
    path.with_suffix(".progress").unlink(missing_ok=True)
    _wal(path).unlink(missing_ok=True)
    shutil.rmtree(path.with_name(path.name + ".tmp"), ignore_errors=True)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
