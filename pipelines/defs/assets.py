"""Assets: the raw copies of operational tables, one thin asset per SQL model, the publish.

Every asset writes the run's private build file (see ``WarehouseBuild``) and runs in the
``warehouse`` concurrency pool; ``published_warehouse`` comes last and makes the build current.
"""

import dagster as dg

from pipelines.defs.energy import PYTHON_TABLES as ENERGY_TABLES
from pipelines.defs.energy import energy_assets
from pipelines.defs.resources import WAREHOUSE_POOL, WarehouseBuild
from pipelines.defs.sla import PYTHON_TABLES as SLA_TABLES
from pipelines.defs.sla import sla_assets
from warehouse.extract import EVENTS, SOURCES, Source, extract_source
from warehouse.models import Model, load_models, run_model


def _key(table: str) -> dg.AssetKey:
    """``raw.org_office`` → AssetKey(["raw", "org_office"])."""
    return dg.AssetKey(table.split("."))


def raw_asset(source: Source) -> dg.AssetsDefinition:
    table = f"raw.{source.table}"

    @dg.asset(
        key=_key(table),
        # Rows extracted by their documents' new events come after the events (docs/warehouse.md).
        deps=[_key(f"raw.{EVENTS}")] if source.documents else None,
        group_name="raw",
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        description=f"The operational table {source.table}, copied {source.mode} into {table}.",
    )
    def _raw(
        context: dg.AssetExecutionContext, warehouse: WarehouseBuild
    ) -> dg.MaterializeResult[None]:
        with warehouse.connect(context.op_execution_context.run_id) as con:
            done = extract_source(warehouse.database_url, con, source)
        return dg.MaterializeResult(metadata={k: v for k, v in done.items() if v is not None})

    return _raw


def model_asset(model: Model, known: set[str]) -> dg.AssetsDefinition:
    @dg.asset(
        key=_key(model.table),
        deps=[_key(table) for table in sorted(model.depends_on & known)],
        group_name=model.schema,
        pool=WAREHOUSE_POOL,
        kinds={"duckdb", "sql"},
        description=f"```sql\n{model.sql}\n```",
    )
    def _model(
        context: dg.AssetExecutionContext, warehouse: WarehouseBuild
    ) -> dg.MaterializeResult[None]:
        with warehouse.connect(context.op_execution_context.run_id) as con:
            rows = run_model(con, model)
        return dg.MaterializeResult(metadata={"dagster/row_count": rows})

    return _model


MODELS = load_models()
_RAW_TABLES = {f"raw.{source.table}" for source in SOURCES}
raw_assets = [raw_asset(source) for source in SOURCES]
model_assets = [
    model_asset(model, _RAW_TABLES | SLA_TABLES | ENERGY_TABLES | {m.table for m in MODELS})
    for model in MODELS
]
# The tables nothing else reads: publishing after them publishes everything.
_LEAVES = sorted(
    (_RAW_TABLES | ENERGY_TABLES | {m.table for m in MODELS})
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
    with warehouse.connect(context.op_execution_context.run_id) as con:
        con.execute("CHECKPOINT")
    warehouse.release(context.op_execution_context.run_id)
    path = warehouse.warehouse.publish(warehouse.build_path(context.op_execution_context.run_id))
    return dg.MaterializeResult(
        metadata={
            "version": context.op_execution_context.run_id,
            "path": dg.MetadataValue.path(str(path)),
        }
    )


all_assets = [*raw_assets, *model_assets, *sla_assets, *energy_assets, published_warehouse]
