"""Dagster, thin: the code location (definitions.py, defs/), its resources, and what `qiangji run` runs.

The only package besides `cli` that imports dagster (docs/architecture.md).
"""
