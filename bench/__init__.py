"""City-scale benchmark of the ingest pipeline (issue #8): `make bench`, see docs/performance.md."""
