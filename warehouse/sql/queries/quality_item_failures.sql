-- The inspection items that fail most (marts.inspection_item_failures, docs/quality-marts.md)
-- in the offices in scope, filtered as quality_review.sql is: one city company ($city_code),
-- office, discipline, inspection kind ('' = any) and the months $start … $end (first days).
-- Summed per office, discipline and item name over kinds and months: items_failed,
-- items_scored (the inspections of the item) and failed_pct = 100 × failed ÷ scored. Items
-- failed at least once only, most failures first, then the higher rate; one page: $limit rows
-- from row $offset (quality_item_failures_count.sql counts them).
with

rows as (
    select
        offices.city_code,
        offices.city_name,
        items.office_code,
        offices.office_name,
        items.discipline,
        items.item_name,
        items.items_scored,
        items.items_failed
    from marts.inspection_item_failures as items
    inner join marts.dim_office as offices on offices.office_code = items.office_code
    where in_scope(items.office_code)
        and ($city_code = '' or offices.city_code = $city_code)
        and ($office_code = '' or items.office_code = $office_code)
        and ($discipline = '' or items.discipline = $discipline)
        and ($kind = '' or items.kind = $kind)
        and items.month between $start and $end
),

summed as (
    select
        city_code,
        any_value(city_name) as city_name,
        office_code,
        any_value(office_name) as office_name,
        discipline,
        item_name,
        sum(items_failed) as items_failed,
        sum(items_scored) as items_scored
    from rows
    group by city_code, office_code, discipline, item_name
    having sum(items_failed) > 0
)

select
    city_code,
    city_name,
    office_code,
    office_name,
    discipline,
    item_name,
    cast(items_failed as bigint) as items_failed,
    cast(items_scored as bigint) as items_scored,
    100.0 * items_failed / items_scored as failed_pct
from summed
order by items_failed desc, failed_pct desc, office_code, discipline, item_name
limit $limit offset $offset
