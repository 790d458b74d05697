"""The Dagster definitions of the warehouse build, one module per kind."""
