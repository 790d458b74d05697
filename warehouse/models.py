"""The SQL models: each file under ``sql/<layer>/`` is one SELECT, materialised as a table.

``sql/staging/stg_<entity>.sql`` becomes ``staging.stg_<entity>`` (rename and cast only);
``sql/marts/<name>.sql`` becomes ``marts.<name>``. A model's dependencies are the
``raw.``/``staging.``/``marts.``/``sla.`` tables its SQL names, so lineage needs no extra
declaration.

The comment lines at the top of a file say in words what the table holds (one row per what, and
what its columns mean): :attr:`Model.description`, shown with the asset in the Dagster UI.

A first line ``-- materialized: view`` makes the model a view: a large staging model that a build
reads once, or an incremental build only in part (filters go through a view to the raw table),
is not copied. Default: a table rebuilt on each run.

A line ``-- incremental: <key column>, …`` in the header makes the model an incremental mart
(``warehouse.incremental``): only the rows of the keys its changes file
``sql/changes/<name>.sql`` selects are rebuilt, unless the build must be whole; an optional line
``-- whole when changed: <table>, …`` names small tables whose any change rebuilds it whole.

A line ``-- macros: <name>, …`` in the header makes the model use the macros defined in
``sql/macros/<name>.sql``: they are created on the connection before the model runs, and the
tables they read count among the model's dependencies. One rule can so serve a mart and a
dashboard query (``warehouse.queries`` honours the same line): ``supplier_ranking``.

Every build also holds one row of parameters, ``raw.run_params`` (version, built_at, as_of,
database_backend), written when the build begins; models that evaluate anything "now" (open SLA
clocks, for instance) read ``as_of`` from it instead of calling ``now()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

from warehouse import incremental

SQL_DIR = Path(__file__).parent / "sql"
LAYERS = ("staging", "marts")
RUN_PARAMS = "raw.run_params"
_REFERENCE = re.compile(r"\b(raw|staging|marts|sla)\.([a-z_][a-z0-9_]*)\b")
_LINE_COMMENT = re.compile(r"--[^\n]*")
_MATERIALIZED = re.compile(r"--\s*materialized:\s*(table|view)\s*$")
_MACROS = re.compile(r"^--\s*macros:\s*(.+?)\s*$", re.MULTILINE)
_INCREMENTAL = re.compile(r"^--\s*incremental:\s*(.+?)\s*$", re.MULTILINE)
_WHOLE_WHEN = re.compile(r"^--\s*whole when changed:\s*(.+?)\s*$", re.MULTILINE)
MACROS_DIR = SQL_DIR / "macros"
CHANGES_DIR = "changes"
"""``sql/changes/<name>.sql``: an incremental model's changed keys (``warehouse.incremental``)."""


def _names(pattern: re.Pattern[str], sql: str) -> tuple[str, ...]:
    return tuple(
        name.strip() for line in pattern.findall(sql) for name in line.split(",") if name.strip()
    )


def macros_named(sql: str) -> tuple[str, ...]:
    """The macro files a model or query names in its ``-- macros: a, b`` lines."""
    return tuple(
        name.strip() for line in _MACROS.findall(sql) for name in line.split(",") if name.strip()
    )


def macro_statements(names: tuple[str, ...]) -> tuple[str, ...]:
    """The statements of ``sql/macros/<name>.sql`` for each name, comments removed."""
    statements: list[str] = []
    for name in names:
        text = _LINE_COMMENT.sub("", (MACROS_DIR / f"{name}.sql").read_text(encoding="utf-8"))
        statements += [s.strip() for s in text.split(";") if s.strip()]
    return tuple(statements)


@dataclass(frozen=True)
class Model:
    """One SQL file: the table ``schema.name`` and the tables it reads."""

    schema: str
    name: str
    sql: str
    depends_on: frozenset[str]
    materialized: str = "table"  # 'table' | 'view'
    macros: tuple[str, ...] = ()
    """The macro files (``sql/macros/<name>.sql``) created on the connection before it runs."""
    keys: tuple[str, ...] = ()
    """An incremental model's key columns (``-- incremental:``); empty: rebuilt whole each run."""
    changes: str = ""
    """An incremental model's changes SELECT (``sql/changes/<name>.sql``)."""
    whole_when_changed: tuple[str, ...] = ()
    """Tables any change of which rebuilds the incremental model whole."""

    @property
    def table(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def description(self) -> str:
        """The file's header comment in words (its lines joined, the directive left out)."""
        header = []
        for line in self.sql.splitlines():
            if not line.startswith("--"):
                break
            if not any(p.match(line) for p in (_MATERIALIZED, _MACROS, _INCREMENTAL, _WHOLE_WHEN)):
                header.append(line.removeprefix("--").strip())
        return " ".join(part for part in header if part)


def load_models(sql_dir: Path = SQL_DIR) -> list[Model]:
    """Every model under ``sql_dir``, each after the models it reads."""
    models: dict[str, Model] = {}
    for layer in LAYERS:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            sql = path.read_text(encoding="utf-8").strip().rstrip(";")
            macros = macros_named(sql)
            keys = _names(_INCREMENTAL, sql)
            changes = ""
            if keys:
                changes_file = sql_dir / CHANGES_DIR / path.name
                if not changes_file.exists():
                    raise FileNotFoundError(f"incremental model {path} has no {changes_file}")
                changes = changes_file.read_text(encoding="utf-8").strip().rstrip(";")
            whole_when = _names(_WHOLE_WHEN, sql)
            code = (
                _LINE_COMMENT.sub("", sql)
                + "\n".join(macro_statements(macros))
                + _LINE_COMMENT.sub("", changes)
                + " ".join(whole_when)
            )
            refs = frozenset(f"{s}.{t}" for s, t in _REFERENCE.findall(code))
            first = _MATERIALIZED.match(sql.splitlines()[0]) if sql else None
            kind = "table" if first is None else first.group(1)
            model = Model(
                layer,
                path.stem,
                sql,
                refs - {f"{layer}.{path.stem}"},
                kind,
                macros,
                keys,
                changes,
                whole_when,
            )
            models[model.table] = model
    graph = {table: model.depends_on & models.keys() for table, model in models.items()}
    return [models[table] for table in TopologicalSorter(graph).static_order()]


def run_model(con: duckdb.DuckDBPyConnection, model: Model, *, full: bool = False) -> int:
    """(Re)create the model's table (or view) from its SELECT — an incremental model's changed
    rows only, unless ``full`` or it must be whole — and return its row count."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {model.schema}")
    for statement in macro_statements(model.macros):
        con.execute(statement)
    existing = _kind_of(con, model)
    wanted = "VIEW" if model.materialized == "view" else "BASE TABLE"
    if existing is not None and existing != wanted:  # materialised otherwise before
        con.execute(f"DROP {'VIEW' if existing == 'VIEW' else 'TABLE'} {model.table}")
    if model.materialized == "view":
        con.execute(f"CREATE OR REPLACE VIEW {model.table} AS\n{model.sql}")
    elif model.keys:
        incremental.build(
            con,
            table=model.table,
            select=model.sql,
            macros=macro_statements(model.macros),
            keys=model.keys,
            changes=model.changes,
            whole_when_changed=model.whole_when_changed,
            reads=model.depends_on,
            exists=existing == wanted,
            full=full,
        )
    else:
        con.execute(f"CREATE OR REPLACE TABLE {model.table} AS\n{model.sql}")
    return int(con.execute(f"SELECT count(*) FROM {model.table}").fetchall()[0][0])


def _kind_of(con: duckdb.DuckDBPyConnection, model: Model) -> str | None:
    rows = con.execute(
        "SELECT table_type FROM information_schema.tables"
        " WHERE table_schema = $s AND table_name = $t",
        {"s": model.schema, "t": model.name},
    ).fetchall()
    return str(rows[0][0]) if rows else None


def run_models(con: duckdb.DuckDBPyConnection, models: list[Model] | None = None) -> None:
    """Run ``models`` (default: all of them) in dependency order."""
    for model in load_models() if models is None else models:
        run_model(con, model)


def write_run_params(
    con: duckdb.DuckDBPyConnection,
    *,
    version: str,
    as_of: datetime,
    database_backend: str,
    built_at: datetime | None = None,
) -> None:
    """Record the build's parameters in ``raw.run_params`` (instants stored as UTC)."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry a time zone")
    built = built_at or datetime.now(UTC)
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(
        f"CREATE OR REPLACE TABLE {RUN_PARAMS} AS SELECT $version::VARCHAR AS version,"
        " $built_at::TIMESTAMP AS built_at, $as_of::TIMESTAMP AS as_of,"
        " $backend::VARCHAR AS database_backend",
        {
            "version": version,
            "built_at": _naive_utc(built),
            "as_of": _naive_utc(as_of),
            "backend": database_backend,
        },
    )


def _naive_utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)
