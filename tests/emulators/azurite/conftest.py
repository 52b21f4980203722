from tests.fixtures.azurite import azurite, azurite_connection_string  # noqa: F401
