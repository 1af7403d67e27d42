"""The code location by concern: ingest, transform (dbt), quality (GX), publish, jobs, automation."""
