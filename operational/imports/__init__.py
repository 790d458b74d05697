"""Batch imports (CSV or XLSX): every row validated, errors reported by row, all or nothing."""
