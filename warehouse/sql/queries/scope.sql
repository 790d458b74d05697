-- The scope of every dashboard query (docs/warehouse.md, "Scope"). Run on each read cursor
-- before its query, with $scope_all (every office) and $scope_offices (the office codes)
-- bound from the reader's warehouse.scope.OfficeScope. Statements are separated by ";".

set variable scope_all = $scope_all::boolean;

set variable scope_offices = $scope_offices::varchar[];

-- The supplier a supplier user's reader is bound to (NULL: none).
set variable scope_supplier = $scope_supplier::varchar;

-- City companies and groups whose every office is in scope: their totals may be shown.
set variable scope_cities = (
    select coalesce(list(city_code), []::varchar[])
    from (
        select city_code
        from marts.dim_office
        group by city_code
        having bool_and(list_contains(getvariable('scope_offices'), office_code))
    )
);

set variable scope_groups = (
    select coalesce(list(group_code), []::varchar[])
    from (
        select group_code
        from marts.dim_office
        group by group_code
        having bool_and(list_contains(getvariable('scope_offices'), office_code))
    )
);

create or replace temp macro in_scope(office_code) as (
    getvariable('scope_all') or list_contains(getvariable('scope_offices'), office_code)
);

create or replace temp macro city_in_scope(city_code) as (
    getvariable('scope_all') or list_contains(getvariable('scope_cities'), city_code)
);

create or replace temp macro group_in_scope(group_code) as (
    getvariable('scope_all') or list_contains(getvariable('scope_groups'), group_code)
);

create or replace temp macro supplier_in_scope(supplier_code) as (
    getvariable('scope_supplier') is null or supplier_code = getvariable('scope_supplier')
);
