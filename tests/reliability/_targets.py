"""Resource ids of the demo seed (emulators/seeds/demo.yaml) for every target kind of the catalog, in the demo
subscription or in a second, "foreign" one seeded with the same resources (outside ALLOWED_SCOPES)."""

from __future__ import annotations

import copy
from typing import Any

from connector.targets import all_specs
from tests.e2e.conftest import fast_demo_seed
from tests.fixtures.arm import DEMO_SUBSCRIPTION

FOREIGN_SUBSCRIPTION = "00000000-0000-0000-0000-00000000f0f0"
RESOURCE_GROUP = "rg-demo"
CLUSTER_NAME = "aks-demo-1"
IDENTITY_NAME = "id-demo-workload"

# The seed's resource per kind: the ARM id's variables other than subscription and resource group.
_NAMES: dict[str, dict[str, str]] = {
    "storage-blob": {"name": "stdemo0001"},
    "storage-queue": {"name": "stdemo0001"},
    "storage-file": {"name": "stdemo0001"},
    "storage-table": {"name": "stdemo0001"},
    "keyvault": {"name": "kv-demo-0001"},
    "appconfig": {"name": "appcs-demo-0001"},
    "cosmos-sql": {"name": "cosmos-demo-0001", "database": "appdb"},
    "redis": {"name": "redis-demo-0001"},
    "servicebus": {"name": "sb-demo-0001"},
    "eventhub": {"name": "evhns-demo-0001"},
    "postgres-flexible": {"name": "psql-demo-0001", "database": "appdb"},
    "mysql-flexible": {"name": "mysql-demo-0001", "database": "appdb"},
    "sql": {"name": "sql-demo-0001", "database": "appdb"},
    "cognitiveservices": {"name": "cog-demo-0001"},
    "openai": {"name": "oai-demo-0001"},
}
# Targets outside Azure, named by endpoint (no ARM resource, no subscription).
_ENDPOINTS: dict[str, str] = {
    "confluent-bootstrap-server": "pkc-demo1.eastus.azure.confluent.cloud:9092",
    "confluent-schema-registry": "https://psrc-demo1.westus2.azure.confluent.cloud",
}


def target_kinds() -> list[str]:
    """Every target kind of the catalog (a kind added to the catalog without a seed entry fails here)."""
    kinds = [spec.kind for spec in all_specs()]
    missing = sorted(set(kinds) - set(_NAMES) - set(_ENDPOINTS))
    assert not missing, f"no demo resource for target kinds {missing}: add them to _NAMES or _ENDPOINTS"
    return kinds


def arm_target_kinds() -> list[str]:
    """The target kinds that are ARM resources (those a subscription can hold)."""
    return [kind for kind in target_kinds() if kind in _NAMES]


def target_id(kind: str, subscription: str = DEMO_SUBSCRIPTION) -> str:
    """The demo seed's resource of this kind, in `subscription`."""
    spec = next(s for s in all_specs() if s.kind == kind)
    assert spec.id_pattern is not None, f"{kind} is named by endpoint, not by ARM id: use target_service"
    pattern = spec.id_pattern.pattern
    return pattern.format(subscription=subscription, resourceGroup=RESOURCE_GROUP, **_NAMES[kind])


def target_service(kind: str) -> dict[str, str]:
    """`properties.targetService` naming the demo target of this kind (by ARM id, or by endpoint)."""
    spec = next(s for s in all_specs() if s.kind == kind)
    if spec.id_pattern is None:
        return {"type": spec.service_type, "endpoint": _ENDPOINTS[kind]}
    return {"type": "AzureResource", "id": target_id(kind)}


def secret_from_request(kind: str) -> bool:
    """True when the kind's secret comes in the request (a database password, a Confluent API secret)."""
    spec = next(s for s in all_specs() if s.kind == kind)
    return spec.secret_source is not None and spec.secret_source.from_request


def auth_types(kind: str) -> set[str]:
    """The auth types the catalog supports for a kind."""
    spec = next(s for s in all_specs() if s.kind == kind)
    return {a.value for a in spec.auth_types}


def cluster_id(subscription: str = DEMO_SUBSCRIPTION, name: str = CLUSTER_NAME) -> str:
    """An AKS cluster id of the demo seed."""
    return (
        f"/subscriptions/{subscription}/resourceGroups/{RESOURCE_GROUP}"
        f"/providers/Microsoft.ContainerService/managedClusters/{name}"
    )


def identity_id(subscription: str = DEMO_SUBSCRIPTION) -> str:
    """The demo seed's user-assigned identity, in `subscription`."""
    return (
        f"/subscriptions/{subscription}/resourceGroups/{RESOURCE_GROUP}"
        f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{IDENTITY_NAME}"
    )


def foreign_seed() -> dict[str, Any]:
    """The demo subscription copied as FOREIGN_SUBSCRIPTION: a write there would succeed if attempted."""
    data = fast_demo_seed()
    foreign = copy.deepcopy(data["subscriptions"][0])
    foreign["id"] = FOREIGN_SUBSCRIPTION
    foreign["displayName"] = "outside ALLOWED_SCOPES"
    foreign["providers"] = {}
    return {"subscriptions": [foreign]}
