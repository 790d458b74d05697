-- How many breached clocks sla_late_clocks.sql has to page through (same filters).
select count(*) as late_clocks
from marts.sla_late_clocks
where in_scope(office_code)
    and ($office_code = '' or office_code = $office_code)
    and ($discipline = '' or discipline = $discipline)
    and ($document_type = '' or document_type = $document_type)
    and month between $first_month and $last_month
