"""Workbooks for district clerks: their own submission annotated with its problems (`annotate`)."""
