"""Helpers shared by the test folders: `from tests.support.<module> import ...`."""
