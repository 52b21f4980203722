"""The app's own connections read as the Functions host reads a named connection (connection string or
identity-based `NAME__property` settings, per the Functions documentation's "Common properties for
identity-based connections"), and refused, naming the setting, when present but not understood."""

from __future__ import annotations

import pytest

from activities.connection_settings import (
    DEVELOPMENT_STORAGE,
    ConnectionSettingError,
    servicebus_connection,
    storage_connection,
)
from activities.settings import Settings


def test_storage_account_name_alone_gives_the_public_table_endpoint_and_default_credential() -> None:
    storage = storage_connection({"AzureWebJobsStorage__accountName": "stprod01"})
    assert storage.identity_based
    assert storage.table_service_uri == "https://stprod01.table.core.windows.net"
    assert not storage.identity.managed_identity


def test_storage_table_service_uri_wins_over_the_account_name() -> None:
    storage = storage_connection(
        {
            "AzureWebJobsStorage__accountName": "stprod01",
            "AzureWebJobsStorage__tableServiceUri": "https://stprod01.table.core.usgovcloudapi.net/",
            "AzureWebJobsStorage__credential": "managedidentity",
            "AzureWebJobsStorage__clientId": "11111111-2222-3333-4444-555555555555",
        }
    )
    assert storage.table_service_uri == "https://stprod01.table.core.usgovcloudapi.net"
    assert storage.identity.managed_identity
    assert storage.identity.client_id == "11111111-2222-3333-4444-555555555555"


def test_a_connection_string_still_works_and_wins_as_it_does_for_the_host() -> None:
    env = {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "AzureWebJobsStorage__accountName": "x"}
    assert storage_connection(env).connection_string == "UseDevelopmentStorage=true"
    assert storage_connection({}).connection_string == DEVELOPMENT_STORAGE


@pytest.mark.parametrize(
    ("env", "named"),
    [
        (
            {"AzureWebJobsStorage__accountName": "st", "AzureWebJobsStorage__credential": "secret"},
            "__credential",
        ),
        ({"AzureWebJobsStorage__accountName": "st", "AzureWebJobsStorage__clientId": "abc"}, "__clientId"),
        ({"AzureWebJobsStorage__blobServiceUri": "https://st.blob.core.windows.net"}, "__tableServiceUri"),
        ({"AzureWebJobsStorage__tableServiceUri": "http://st.table.core.windows.net"}, "https"),
        ({"AzureWebJobsStorage__acountName": "typo"}, "AzureWebJobsStorage__acountName"),
    ],
)
def test_storage_settings_present_but_not_understood_are_refused_at_start(
    env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConnectionSettingError, match=named):
        Settings.from_env(env)


def test_servicebus_namespace_with_managed_identity() -> None:
    connection = servicebus_connection(
        {
            "SERVICEBUS_CONNECTION__fullyQualifiedNamespace": "sb-prod.servicebus.windows.net",
            "SERVICEBUS_CONNECTION__credential": "managedidentity",
            "SERVICEBUS_CONNECTION__clientId": "11111111-2222-3333-4444-555555555555",
        }
    )
    assert connection.namespace == "sb-prod.servicebus.windows.net"
    assert connection.identity.managed_identity and connection.identity.client_id
    assert not connection.is_local_emulator
    assert servicebus_connection(
        {"SERVICEBUS_CONNECTION__fullyQualifiedNamespace": "127.0.0.1:5672"}
    ).is_local_emulator


def test_servicebus_unset_means_no_events_and_a_url_is_refused() -> None:
    assert not servicebus_connection({}).configured
    with pytest.raises(ConnectionSettingError, match="not a URL"):
        servicebus_connection(
            {"SERVICEBUS_CONNECTION__fullyQualifiedNamespace": "sb://ns.servicebus.windows.net"}
        )
    with pytest.raises(ConnectionSettingError, match="__fullyQualifiedNamespace"):
        servicebus_connection({"SERVICEBUS_CONNECTION__credential": "managedidentity"})


def test_settings_repr_shows_no_connection_string() -> None:
    settings = Settings.from_env({"AzureWebJobsStorage": "AccountKey=c2VjcmV0"})
    assert "c2VjcmV0" not in repr(settings)
