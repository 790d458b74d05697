-- One row: which version this file is, when it was built, the instant it was evaluated at
-- (as_of) and the operational backend it was extracted from. Instants are UTC.
select
    version,
    built_at,
    as_of,
    database_backend
from raw.run_params
