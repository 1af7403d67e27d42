"""The warehouse's Dagster-free core: the home's layout, reference data, publish, export, the audit table.

Every other first-party package may import this one; it imports none of them.
"""
