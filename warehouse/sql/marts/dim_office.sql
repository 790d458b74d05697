-- One row per management office with its city company and group: the organisation tree.
with

offices as (select * from staging.stg_offices),

cities as (select * from staging.stg_city_companies),

groups as (select * from staging.stg_groups),

final as (
    select
        groups.group_code,
        groups.group_name,
        cities.city_code,
        cities.city_name,
        offices.office_code,
        offices.office_name,
        offices.timezone
    from offices
    left join cities on offices.city_id = cities.city_id
    left join groups on cities.group_id = groups.group_id
)

select * from final
order by city_code, office_code
