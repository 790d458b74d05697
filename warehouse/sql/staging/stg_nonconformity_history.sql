-- The go-live history's nonconformities (docs/nonconformities.md): the rows the engine never
-- moved (version 1 and no event of their document), which the history import writes and
-- rewrites without an event — so no refresh can tell from the events what such a row was
-- before. marts.quality_review is rebuilt whole when any of them changed (its "whole when
-- changed" line; docs/quality-marts.md, "Refresh").
-- The events are searched for those rows' ids only (a hash of the few history ids probed by the
-- nonconformity events), not hashed whole. A table, not a view: every refresh reads it three
-- times (two marts' digests of their "whole when changed" inputs, and its row count), and
-- evaluating it once is cheaper than three times (docs/benchmarks.md, Quality).
with

history_ids as (select id from raw.supplier_nonconformity where version = 1),

moved as (
    select distinct document_id
    from staging.stg_workflow_events
    where document_type in (
            'nonconformity_notice', 'nonconformity_handling', 'nonconformity_corrective'
        )
        and document_id in (select id from history_ids)
)

select ncs.*
from staging.stg_supplier_nonconformities as ncs
where ncs.nonconformity_id in (select id from history_ids)
    and ncs.nonconformity_id not in (select document_id from moved)
