-- The breached clocks of the offices in scope (the late-order list), filtered by office,
-- discipline and document type ('' = all) and by office-local month, latest-running first;
-- a page of $limit rows from row $offset.
select document_no, office_code, discipline, document_type, clock, started_at, due_at,
    stopped_at, state, late_minutes, month
from marts.sla_late_clocks
where in_scope(office_code)
    and ($office_code = '' or office_code = $office_code)
    and ($discipline = '' or discipline = $discipline)
    and ($document_type = '' or document_type = $document_type)
    and month between $first_month and $last_month
order by late_minutes desc, document_no, clock
limit $limit offset $offset
