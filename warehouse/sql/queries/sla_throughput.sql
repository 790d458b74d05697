-- Orders created and closed per office in scope and office-local month.
select office_code, month, cast(sum(created) as bigint) as created,
    cast(sum(closed) as bigint) as closed
from marts.order_throughput
where in_scope(office_code) and month between $first_month and $last_month
group by office_code, month
order by office_code, month
