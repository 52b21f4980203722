"""listConfigurations: the configuration names of a connection, with the values that are not secrets.

Values that need the target's ARM properties (an endpoint the resource reports) are rendered from what the
catalog can derive from the ids alone; when that is not enough the value is null. Secret values (keys,
passwords, connection strings) are never rendered: their names are listed with a null value.
"""

from __future__ import annotations

from typing import Any

from connector import manifests, secret_store, targets
from connector.model import Connection
from connector.wire import API_2022_05_01, API_2022_11_01_PREVIEW

DEFAULT_CONFIG_TYPE = "Default"
KEY_VAULT_SECRET_CONFIG_TYPE = "KeyVaultSecret"


def list_configurations(
    connection: Connection, tenant_id: str | None, api_version: str = API_2022_05_01
) -> list[dict[str, Any]]:
    """[{name, value, ...}] in the order the Secret holds them; secret values are always null.

    The SourceConfiguration of 2022-05-01 and 2022-11-01-preview has name and value only; 2023-04-01-preview,
    2024-04-01 and 2024-07-01-preview add configType, keyVaultReferenceIdentity and description, answered as
    azure-cli's recording of Azure shows them (`"configType": "Default", "keyVaultReferenceIdentity": null,
    "description": ""`).
    """
    kind = connection.target_kind
    mode = manifests.auth_mode(connection)
    secret_keys = targets.secret_keys(kind, mode, connection.client_type)
    parts = targets.target_parts(kind, connection.target_id) or {}
    # Placeholders stand in for the secret material so rendering can go on; those keys are dropped below.
    values = targets.ResolvedValues(
        target_properties={},
        target_name=parts.get("name", ""),
        parts=parts,
        secret="",
        user_name=getattr(connection.auth, "user_name", None) or "",
        client_id=getattr(connection.auth, "client_id", None) or None,
        client_secret="",
        tenant_id=tenant_id or None,
    )
    try:
        rendered: dict[str, str | None] = dict(manifests.render(connection, values))
    except (targets.CatalogError, KeyError, ValueError):
        # Some value needs what only the activity learns (the CSI add-on's client id): list the rest.
        known = targets.render_known(kind, mode, connection.client_type, values)
        rendered = {connection.customized_keys.get(k, k): v for k, v in known.items()}
    hidden = {connection.customized_keys.get(k, k) for k in secret_keys}
    items = [{"name": name, "value": None if name in hidden else value} for name, value in rendered.items()]
    if api_version in (API_2022_05_01, API_2022_11_01_PREVIEW):
        return items
    # A secret store keeps these values in Key Vault (connector/secret_store.py), not in the Secret.
    in_vault = secret_store.vault_secret_names(connection)
    for item in items:
        in_key_vault = item["name"] in in_vault
        item["configType"] = KEY_VAULT_SECRET_CONFIG_TYPE if in_key_vault else DEFAULT_CONFIG_TYPE
        item["keyVaultReferenceIdentity"] = None
        item["description"] = ""
    return items
