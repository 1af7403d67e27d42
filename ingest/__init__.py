"""Submissions → raw tables: read, normalize, validate (pandera), pseudonymize, load. Dagster-free.

Depends only on `warehouse` (docs/architecture.md).
"""
