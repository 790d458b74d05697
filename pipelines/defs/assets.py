"""Assets: the raw copies of operational tables, the SQL models, the Python marts, the publish.

Every table is an asset of its own in the Dagster UI (its lineage, group, kinds, description and
per-materialisation metadata such as ``dagster/row_count``), but a run executes them in a few
steps, because a Dagster step costs tens of milliseconds and half a dozen stored events whatever
it does — with one step per table and check (≈ 50) that overhead alone was seconds per run:

1. ``raw_tables``: every ``raw/<table>`` of ``warehouse.extract.SOURCES``;
2. ``staging_models``, ``marts_models``: the SQL models of each layer that read no Python-built
   table, in dependency order;
3. ``sla_clocks``, ``energy_marts``: the Python marts (``pipelines.defs.sla`` / ``.energy``);
4. ``marts_models_after_python``: the SQL models reading a Python-built table;
5. ``published_warehouse``.

Each step is a ``@multi_asset`` whose assets are AssetSpecs; the SQL and raw steps can be subset
(materialise any selection from the UI: only the selected tables are built). Each step then runs
the blocking checks of its tables (``pipelines.defs.checking``): a failing one fails the step.
Every step writes the run's private build file (see ``WarehouseBuild``) in the ``warehouse``
pool; ``published_warehouse`` comes last and makes the build current. A refresh keeps, still
materialising them, the raw copies and models whose inputs did not change since the version it
continues (``warehouse.versions``; ``copied`` / ``rebuilt`` false in their metadata).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import dagster as dg
import duckdb

from pipelines.defs.checking import checks_of, run_selected_checks
from pipelines.defs.checks import all_checks
from pipelines.defs.energy import PYTHON_TABLES as ENERGY_TABLES
from pipelines.defs.energy import energy_assets
from pipelines.defs.resources import BUILD_STEPS, WAREHOUSE_POOL, WarehouseBuild
from pipelines.defs.sla import PYTHON_TABLES as SLA_TABLES
from pipelines.defs.sla import sla_assets
from warehouse import versions
from warehouse.energy import REQUIRED_MODELS as ENERGY_INPUTS
from warehouse.extract import EVENTS, SOURCES, OperationalSource, Source, extract_source
from warehouse.models import Model, load_models, macro_statements, run_model
from warehouse.sla import DEPENDS_ON as SLA_INPUTS


class TableFailed(RuntimeError):
    """Building one table failed; the message names it (a step builds several)."""


@contextmanager
def _building(table: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        raise TableFailed(f"{table}: {type(exc).__name__}: {exc}") from exc


def _key(table: str) -> dg.AssetKey:
    """``raw.org_office`` → AssetKey(["raw", "org_office"])."""
    return dg.AssetKey(table.split("."))


def raw_spec(source: Source) -> dg.AssetSpec:
    table = f"raw.{source.table}"
    return dg.AssetSpec(
        _key(table),
        # Rows extracted by their documents' new events come after the events (docs/warehouse.md).
        deps=[_key(f"raw.{EVENTS}")] if source.documents else None,
        group_name="raw",
        kinds={"duckdb"},
        description=f"The operational table {source.table}, copied {source.mode} into {table}.",
    )


# The events first: the tables extracted by their documents' new events follow them.
_EXTRACTION_ORDER = sorted(SOURCES, key=lambda source: source.documents is not None)


@dg.multi_asset(
    name="raw_tables",
    specs=[raw_spec(source) for source in SOURCES],
    can_subset=True,
    pool=WAREHOUSE_POOL,
    description="Copy the chosen operational tables into schema raw (docs/warehouse.md).",
)
def raw_tables(context: dg.AssetExecutionContext, warehouse: WarehouseBuild):  # type: ignore[no-untyped-def]
    selected = context.selected_asset_keys
    with (
        warehouse.connect(context.op_execution_context.run_id) as con,
        OperationalSource(warehouse.database_url) as database,
    ):
        # One transaction for the step (WarehouseBuild.connect): a refresh's ≈ 90 statements
        # of few rows and bookkeeping pay one commit.
        tracked = versions.Versions.load(con)  # which tables change (warehouse.versions)
        for source in _EXTRACTION_ORDER:
            key = _key(f"raw.{source.table}")
            if key in selected:
                with _building(f"raw.{source.table}"):
                    done = extract_source(database, con, source, tracked)
                yield dg.MaterializeResult(
                    asset_key=key, metadata={k: v for k, v in done.items() if v is not None}
                )
        tracked.save(con)


def model_spec(model: Model, known: set[str]) -> dg.AssetSpec:
    return dg.AssetSpec(
        _key(model.table),
        deps=[_key(table) for table in sorted(model.depends_on & known)],
        group_name=model.schema,
        kinds={"duckdb", "sql"},
        description=model.description,  # the SQL file's header, in words
        metadata={
            "sql_file": dg.MetadataValue.path(f"warehouse/sql/{model.schema}/{model.name}.sql")
        },
    )


def _kinds(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """``schema.table`` → ``BASE TABLE`` or ``VIEW``, for every table of the build file."""
    rows = con.execute(
        "SELECT table_schema || '.' || table_name, table_type FROM information_schema.tables"
    ).fetchall()
    return {str(name): str(kind) for name, kind in rows}


def build_model(
    con: duckdb.DuckDBPyConnection, model: Model, kind: str | None, tracked: versions.Versions
) -> tuple[int, bool]:
    """Build ``model`` unless the build file holds it as these very inputs made it; return its
    row count and whether it was rebuilt. ``kind``: what the file holds under its name
    (``BASE TABLE``, ``VIEW`` or None).

    A refresh continues an earlier version: a table model whose SQL and inputs' versions
    (``warehouse.versions``) are those it was last built with would come out the same, and a
    view whose SQL is the same is the same view, so both are kept (a view's rows are counted
    again: they are its tables'). An incremental model keeps its own account of what changed
    (``warehouse.incremental``) and is always run.
    """
    code = model.sql + "\n".join(macro_statements(model.macros))
    signature: str | None = None
    if not model.keys:
        view = model.materialized == "view"
        signature = (
            versions.digest("view", code)
            if view
            else tracked.model_signature(code, model.depends_on)
        )
        last = tracked.get(model.table)
        if (
            signature is not None
            and last is not None
            and last.signature == signature
            and kind == ("VIEW" if view else "BASE TABLE")
        ):
            if view or last.rows is None:
                return int(
                    con.execute(f"SELECT count(*) FROM {model.table}").fetchall()[0][0]
                ), False
            return last.rows, False
    rows = run_model(con, model)
    tracked.changed(model.table, signature, rows)
    return rows, True


def models_step(name: str, models: Sequence[Model], known: set[str]) -> dg.AssetsDefinition:
    """One step building ``models`` (in the order given: dependencies first), then the checks
    of their tables; any subset of them can be selected."""
    checks = checks_of(all_checks, [_key(model.table) for model in models])

    @dg.multi_asset(
        name=name,
        specs=[model_spec(model, known) for model in models],
        check_specs=[check.spec for check in checks],
        can_subset=True,
        pool=WAREHOUSE_POOL,
        description=f"Build the chosen SQL models ({', '.join(m.table for m in models)}) in"
        " dependency order, then run the blocking checks of their tables.",
    )
    def _models(context: dg.AssetExecutionContext, warehouse: WarehouseBuild):  # type: ignore[no-untyped-def]
        selected = context.selected_asset_keys
        chosen = [model for model in models if _key(model.table) in selected]
        if chosen:
            with warehouse.connect(context.op_execution_context.run_id) as con:
                kinds = _kinds(con)
                tracked = versions.Versions.load(con)
                # One transaction (WarehouseBuild.connect): a failing model rolls back the
                # step's tables and what ``tracked`` says of them alike.
                for model in chosen:
                    with _building(model.table):
                        rows, rebuilt = build_model(con, model, kinds.get(model.table), tracked)
                    yield dg.MaterializeResult(
                        asset_key=_key(model.table),
                        metadata={"dagster/row_count": rows, "rebuilt": rebuilt},
                    )
                tracked.save(con)
        # The checks read: after the build connection of this step is closed.
        yield from run_selected_checks(context, warehouse, checks)

    return _models


MODELS = load_models()
PYTHON_TABLES = SLA_TABLES | ENERGY_TABLES
_RAW_TABLES = {f"raw.{source.table}" for source in SOURCES}
_KNOWN = _RAW_TABLES | PYTHON_TABLES | {m.table for m in MODELS}


def _after_python(models: Sequence[Model]) -> set[str]:
    """The models reading a Python-built table, directly or through another model."""
    after: set[str] = set()
    for model in models:  # dependencies first
        if model.depends_on & (PYTHON_TABLES | after):
            after.add(model.table)
    return after


_AFTER_PYTHON = _after_python(MODELS)
if (SLA_INPUTS | ENERGY_INPUTS) & _AFTER_PYTHON:  # they would have to run before and after
    raise RuntimeError(f"a Python mart reads a model built after them: {sorted(_AFTER_PYTHON)}")


def _steps() -> list[dg.AssetsDefinition]:
    """One step per layer of the models before the Python marts, one per layer after them."""
    steps = []
    for late in (False, True):
        for layer in dict.fromkeys(model.schema for model in MODELS):
            models = [m for m in MODELS if m.schema == layer and (m.table in _AFTER_PYTHON) == late]
            if models:
                name = f"{layer}_models_after_python" if late else f"{layer}_models"
                steps.append(models_step(name, models, _KNOWN))
    return steps


model_assets = _steps()

# The tables nothing else reads: publishing after them publishes everything.
_LEAVES = sorted(
    (_RAW_TABLES | PYTHON_TABLES | {m.table for m in MODELS})
    - {dep for m in MODELS for dep in m.depends_on}
)


@dg.asset(
    deps=[_key(table) for table in _LEAVES],
    group_name="publish",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
)
def published_warehouse(
    context: dg.AssetExecutionContext, warehouse: WarehouseBuild
) -> dg.MaterializeResult[None]:
    """The run's checked build, checkpointed and published atomically as the current version."""
    with warehouse.connect(context.op_execution_context.run_id, transaction=False) as con:
        con.execute("CHECKPOINT")
    warehouse.release(context.op_execution_context.run_id)
    path = warehouse.warehouse.publish(warehouse.build_path(context.op_execution_context.run_id))
    return dg.MaterializeResult(
        metadata={
            "version": context.op_execution_context.run_id,
            "path": dg.MetadataValue.path(str(path)),
        }
    )


all_assets = [raw_tables, *model_assets, *sla_assets, *energy_assets, published_warehouse]
BUILD_STEPS.total = len(all_assets)  # each writes the build in one go: its progress, step by step

# Every check runs in exactly the step that builds its table.
if sorted(str(k) for a in all_assets for k in a.check_keys) != sorted(
    str(c.key) for c in all_checks
):
    raise RuntimeError("a warehouse check is attached to no step, or to two")
