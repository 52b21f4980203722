"""Fixtures for the Azurite helper tests: the session's Azurite process and its connection string."""

from tests.fixtures.azurite import azurite, azurite_connection_string  # noqa: F401
