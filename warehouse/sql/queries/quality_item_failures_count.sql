-- How many failed items quality_item_failures.sql pages through (same filters): the office,
-- discipline and item name combinations failed at least once.
select count(*) as items
from (
    select items.office_code, items.discipline, items.item_name
    from marts.inspection_item_failures as items
    inner join marts.dim_office as offices on offices.office_code = items.office_code
    where in_scope(items.office_code)
        and ($city_code = '' or offices.city_code = $city_code)
        and ($office_code = '' or items.office_code = $office_code)
        and ($discipline = '' or items.discipline = $discipline)
        and ($kind = '' or items.kind = $kind)
        and items.month between $start and $end
    group by items.office_code, items.discipline, items.item_name
    having sum(items.items_failed) > 0
)
