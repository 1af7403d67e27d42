"""What readers see of the published marts: the attainment report and the offline dashboard.

Reads `published/marts.duckdb` only (never the live warehouse); Dagster-free.
"""
