"""Every kind of mistake in a linker request gives an ARM error body with a stable code and the JSON path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from connector import targets, validation
from connector.validation import RequestValidationError
from connector.wire import parse_linker

from .conftest import (
    CLUSTER_ID,
    IDENTITY_CLIENT_ID,
    KEYVAULT_ID,
    LINKER_ID,
    SECRET_BODY,
    STORAGE_ACCOUNT_ID,
    SUBSCRIPTION,
    WORKLOAD_IDENTITY_BODY,
    body,
)

Mutation = Callable[[dict[str, Any]], Any]


def _props(b: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = b["properties"]
    return props


def _auth(b: dict[str, Any]) -> dict[str, Any]:
    auth: dict[str, Any] = b["properties"]["authInfo"]
    return auth


def _set_auth(value: dict[str, Any]) -> Mutation:
    return lambda b: _props(b).__setitem__("authInfo", value)


def _keys(value: dict[str, Any]) -> Mutation:
    return lambda b: _props(b).__setitem__("configurationInfo", {"customizedKeys": value})


def _merge_props(**changes: Any) -> Mutation:
    return lambda b: _props(b).update(changes)


def _csi(auth: dict[str, Any], flag: Any = True) -> Mutation:
    def mutate(b: dict[str, Any]) -> None:
        _props(b)["targetService"] = {
            "type": "AzureResource",
            "id": KEYVAULT_ID,
            "resourceProperties": {"type": "KeyVault", "connectAsKubernetesCsiDriver": flag},
        }
        _props(b)["authInfo"] = auth

    return mutate


@dataclass(frozen=True)
class Replace:
    """A mutation's result that replaces the whole body."""

    value: Any


def _replace_body(new: Any) -> Mutation:
    return lambda _b: Replace(new)


SP = {
    "authType": "servicePrincipalSecret",
    "clientId": IDENTITY_CLIENT_ID,
    "principalId": IDENTITY_CLIENT_ID,
    "secret": "x",
}
WEBAPP_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Web/sites/app"


@dataclass(frozen=True)
class Case:
    name: str
    code: str
    target: str | None
    mutate: Mutation = lambda b: None
    linker_id: str = LINKER_ID
    api_version: str = "2024-04-01"
    start: dict[str, Any] = field(default_factory=lambda: WORKLOAD_IDENTITY_BODY)


CASES = [
    # The URL: source, linker name, api-version.
    Case(
        "name with a dash", "InvalidLinkerName", "name", linker_id=LINKER_ID.replace("testconn", "test-conn")
    ),
    Case("name with a slash-free symbol", "InvalidLinkerName", "name", linker_id=LINKER_ID + "$"),
    Case("name too long", "InvalidLinkerName", "name", linker_id=LINKER_ID + "x" * 240),
    Case("name without letters", "InvalidLinkerName", "name", linker_id=LINKER_ID.replace("testconn", "._")),
    Case(
        "source is a web app",
        "InvalidSourceResourceId",
        "linkerId",
        linker_id=f"{WEBAPP_ID}/providers/Microsoft.ServiceLinker/linkers/conn",
    ),
    Case(
        "subscription is not a GUID",
        "InvalidSourceResourceId",
        "linkerId",
        linker_id=LINKER_ID.replace(SUBSCRIPTION, "my-sub"),
    ),
    Case("not a linker id", "InvalidSourceResourceId", "linkerId", linker_id=CLUSTER_ID),
    Case(
        "older preview api-version", "UnsupportedApiVersion", "api-version", api_version="2021-11-01-preview"
    ),
    # The body's shape.
    Case("body is a list", "InvalidRequestBody", None, _replace_body([])),
    Case("body is null", "InvalidRequestBody", None, _replace_body(None)),
    Case("properties missing", "MissingRequiredField", "properties", _replace_body({})),
    Case("properties a string", "InvalidRequestBody", "properties", _replace_body({"properties": "x"})),
    # targetService.
    Case(
        "target missing",
        "MissingRequiredField",
        "properties.targetService",
        lambda b: _props(b).pop("targetService"),
    ),
    Case(
        "target a list",
        "InvalidRequestBody",
        "properties.targetService",
        lambda b: _props(b).__setitem__("targetService", []),
    ),
    Case(
        "target service type outside the catalog",
        "UnsupportedTarget",
        "properties.targetService.type",
        lambda b: _props(b)["targetService"].__setitem__("type", "FabricPlatform"),
    ),
    Case(
        "confluent target without its endpoint",
        "MissingRequiredField",
        "properties.targetService.endpoint",
        lambda b: _props(b)["targetService"].__setitem__("type", "ConfluentBootstrapServer"),
    ),
    Case(
        "confluent bootstrap server written as a URL",
        "InvalidFieldValue",
        "properties.targetService.endpoint",
        lambda b: _props(b).__setitem__(
            "targetService",
            {"type": "ConfluentBootstrapServer", "endpoint": "https://pkc-1.eastus.azure.confluent.cloud"},
        ),
    ),
    Case(
        "target id missing",
        "MissingRequiredField",
        "properties.targetService.id",
        lambda b: _props(b)["targetService"].pop("id"),
    ),
    Case(
        "target id not an ARM id",
        "InvalidTargetResourceId",
        "properties.targetService.id",
        lambda b: _props(b)["targetService"].__setitem__("id", "servicelinkerstorage"),
    ),
    Case(
        "target id a number",
        "InvalidRequestBody",
        "properties.targetService.id",
        lambda b: _props(b)["targetService"].__setitem__("id", 42),
    ),
    Case(
        "target is a web app",
        "UnsupportedTarget",
        "properties.targetService.id",
        lambda b: _props(b)["targetService"].__setitem__("id", WEBAPP_ID),
    ),
    Case(
        "storage account instead of its blob service",
        "UnsupportedTarget",
        "properties.targetService.id",
        lambda b: _props(b)["targetService"].__setitem__("id", STORAGE_ACCOUNT_ID),
    ),
    Case(
        "Key Vault properties on a blob target",
        "UnsupportedTarget",
        "properties.targetService.resourceProperties.type",
        lambda b: _props(b)["targetService"].__setitem__(
            "resourceProperties", {"type": "KeyVault", "connectAsKubernetesCsiDriver": True}
        ),
    ),
    Case(
        "unknown resource properties",
        "UnsupportedTarget",
        "properties.targetService.resourceProperties.type",
        lambda b: _props(b)["targetService"].__setitem__("resourceProperties", {"type": "Foo"}),
    ),
    Case(
        "CSI flag not a boolean",
        "InvalidRequestBody",
        "properties.targetService.resourceProperties.connectAsKubernetesCsiDriver",
        _csi(dict(WORKLOAD_IDENTITY_BODY["properties"]["authInfo"]), flag="yes"),
    ),
    # authInfo.
    Case("auth missing", "MissingRequiredField", "properties.authInfo", lambda b: _props(b).pop("authInfo")),
    Case(
        "auth type missing",
        "MissingRequiredField",
        "properties.authInfo.authType",
        lambda b: _auth(b).pop("authType"),
    ),
    Case(
        "auth type unknown",
        "UnsupportedAuthType",
        "properties.authInfo.authType",
        _set_auth({"authType": "foo"}),
    ),
    Case(
        "system identity on AKS",
        "UnsupportedAuthType",
        "properties.authInfo.authType",
        _set_auth({"authType": "systemAssignedIdentity"}),
    ),
    Case(
        "certificate on AKS",
        "UnsupportedAuthType",
        "properties.authInfo.authType",
        _set_auth({"authType": "servicePrincipalCertificate"}),
    ),
    Case(
        "secret auth for Key Vault",
        "UnsupportedAuthType",
        "properties.authInfo.authType",
        _merge_props(
            targetService={"type": "AzureResource", "id": KEYVAULT_ID}, authInfo={"authType": "secret"}
        ),
    ),
    Case("service principal with CSI", "UnsupportedAuthType", "properties.authInfo.authType", _csi(SP)),
    Case(
        "client id missing",
        "MissingRequiredField",
        "properties.authInfo.clientId",
        lambda b: _auth(b).pop("clientId"),
    ),
    Case(
        "client id empty",
        "MissingRequiredField",
        "properties.authInfo.clientId",
        lambda b: _auth(b).__setitem__("clientId", ""),
    ),
    Case(
        "client id not a GUID",
        "InvalidFieldValue",
        "properties.authInfo.clientId",
        lambda b: _auth(b).__setitem__("clientId", "my-identity"),
    ),
    Case(
        "identity subscription missing",
        "MissingRequiredField",
        "properties.authInfo.subscriptionId",
        lambda b: _auth(b).pop("subscriptionId"),
    ),
    Case(
        "service principal secret missing",
        "MissingRequiredField",
        "properties.authInfo.secret",
        _set_auth({k: v for k, v in SP.items() if k != "secret"}),
    ),
    Case(
        "service principal id not a GUID",
        "InvalidFieldValue",
        "properties.authInfo.principalId",
        _set_auth({**SP, "principalId": "nope"}),
    ),
    Case(
        "secret given as a Key Vault URI",
        "UnsupportedSecretType",
        "properties.authInfo.secretInfo.secretType",
        _set_auth(
            {"authType": "secret", "secretInfo": {"secretType": "keyVaultSecretUri", "value": "https://x"}}
        ),
    ),
    Case(
        "raw secret value a number",
        "InvalidRequestBody",
        "properties.authInfo.secretInfo.value",
        _set_auth({"authType": "secret", "name": "u", "secretInfo": {"secretType": "rawValue", "value": 42}}),
    ),
    Case(
        "Key Vault reference without a secret store",
        "MissingRequiredField",
        "properties.secretStore.keyVaultId",
        _set_auth(
            {"authType": "secret", "secretInfo": {"secretType": "keyVaultSecretReference", "name": "pw"}}
        ),
    ),
    Case(
        "Key Vault reference to a storage account",
        "InvalidTargetResourceId",
        "properties.secretStore.keyVaultId",
        _merge_props(
            authInfo={
                "authType": "secret",
                "secretInfo": {"secretType": "keyVaultSecretReference", "name": "pw"},
            },
            secretStore={"keyVaultId": STORAGE_ACCOUNT_ID},
        ),
    ),
    # clientType and scope.
    Case(
        "unknown client type",
        "UnknownClientType",
        "properties.clientType",
        lambda b: _props(b).__setitem__("clientType", "cobol"),
    ),
    Case(
        "client type a number",
        "InvalidRequestBody",
        "properties.clientType",
        lambda b: _props(b).__setitem__("clientType", 7),
    ),
    Case(
        "namespace upper case",
        "InvalidNamespace",
        "properties.scope",
        lambda b: _props(b).__setitem__("scope", "Default"),
    ),
    Case(
        "namespace too long",
        "InvalidNamespace",
        "properties.scope",
        lambda b: _props(b).__setitem__("scope", "a" * 64),
    ),
    Case(
        "namespace leading dash",
        "InvalidNamespace",
        "properties.scope",
        lambda b: _props(b).__setitem__("scope", "-ns"),
    ),
    Case(
        "namespace with a dot",
        "InvalidNamespace",
        "properties.scope",
        lambda b: _props(b).__setitem__("scope", "a.b"),
    ),
    Case(
        "namespace empty",
        "InvalidNamespace",
        "properties.scope",
        lambda b: _props(b).__setitem__("scope", ""),
    ),
    # configurationInfo.
    Case(
        "customized key renames an unknown key",
        "InvalidCustomizedKey",
        "properties.configurationInfo.customizedKeys.NOT_A_KEY",
        _keys({"NOT_A_KEY": "X"}),
    ),
    Case(
        "customized key renames a secret-auth key on a workload-identity connection",
        "InvalidCustomizedKey",
        "properties.configurationInfo.customizedKeys.AZURE_STORAGEBLOB_CONNECTIONSTRING",
        _keys({"AZURE_STORAGEBLOB_CONNECTIONSTRING": "CS"}),
    ),
    Case(
        "customized key starts with a digit",
        "InvalidCustomizedKey",
        "properties.configurationInfo.customizedKeys.AZURE_STORAGEBLOB_CLIENTID",
        _keys({"AZURE_STORAGEBLOB_CLIENTID": "1CLIENT"}),
    ),
    Case(
        "customized key with a dash",
        "InvalidCustomizedKey",
        "properties.configurationInfo.customizedKeys.AZURE_STORAGEBLOB_CLIENTID",
        _keys({"AZURE_STORAGEBLOB_CLIENTID": "CLIENT-ID"}),
    ),
    Case(
        "customized keys collide with another key",
        "InvalidCustomizedKey",
        "properties.configurationInfo.customizedKeys",
        _keys({"AZURE_STORAGEBLOB_CLIENTID": "AZURE_STORAGEBLOB_RESOURCEENDPOINT"}),
    ),
    Case(
        "customized key value a number",
        "InvalidRequestBody",
        "properties.configurationInfo.customizedKeys.AZURE_STORAGEBLOB_CLIENTID",
        _keys({"AZURE_STORAGEBLOB_CLIENTID": 3}),
    ),
    Case(
        "unknown delete behaviour",
        "InvalidFieldValue",
        "properties.configurationInfo.deleteOrUpdateBehavior",
        lambda b: _props(b).__setitem__("configurationInfo", {"deleteOrUpdateBehavior": "Sometimes"}),
    ),
    Case(
        "configuration opted out",
        "InvalidRequestBody",
        "properties.configurationInfo.action",
        lambda b: _props(b).__setitem__("configurationInfo", {"action": "optOut"}),
    ),
    Case(
        "additional configurations",
        "InvalidRequestBody",
        "properties.configurationInfo.additionalConfigurations",
        lambda b: _props(b).__setitem__("configurationInfo", {"additionalConfigurations": {"A": "b"}}),
    ),
    Case(
        "configuration info with the older api-version",
        "InvalidRequestBody",
        "properties.configurationInfo",
        api_version="2022-05-01",
    ),
    Case(
        "secret body: auto secret with a bad namespace",
        "InvalidNamespace",
        "properties.scope",
        lambda b: _props(b).__setitem__("scope", "kube_system"),
        start=SECRET_BODY,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_mistake_gives_its_stable_code_and_json_path(case: Case) -> None:
    request: Any = body(case.start)
    result = case.mutate(request)
    if isinstance(result, Replace):
        request = result.value

    with pytest.raises(RequestValidationError) as raised:
        parse_linker(case.linker_id, request, case.api_version)

    error = raised.value
    assert [(p.code, p.target) for p in error.problems] == [(case.code, case.target)]
    arm = error.to_arm_body()["error"]
    assert arm["code"] == case.code
    assert arm["target"] == case.target
    assert arm["message"]
    assert arm["details"] == [
        {"code": case.code, "message": arm["message"], "target": case.target, "details": []}
    ]
    assert case.code in validation.ALL_CODES


def test_several_mistakes_are_reported_together_first_one_on_top() -> None:
    request = body(WORKLOAD_IDENTITY_BODY)
    request["properties"]["scope"] = "Bad_NS"
    request["properties"]["clientType"] = "cobol"
    request["properties"]["authInfo"].pop("clientId")

    with pytest.raises(RequestValidationError) as raised:
        parse_linker(LINKER_ID.replace("testconn", "test-conn"), request, "2024-04-01")

    arm = raised.value.to_arm_body()["error"]
    assert arm["code"] == "InvalidLinkerName"
    assert {(d["code"], d["target"]) for d in arm["details"]} == {
        ("InvalidLinkerName", "name"),
        ("InvalidNamespace", "properties.scope"),
        ("UnknownClientType", "properties.clientType"),
        ("MissingRequiredField", "properties.authInfo.clientId"),
    }
    assert "3 more" in arm["message"]


def test_every_documented_code_is_in_the_module_table() -> None:
    doc = validation.__doc__ or ""
    for code in validation.ALL_CODES:
        assert f"| {code} " in doc, code


def _database_request(auth: dict[str, Any]) -> dict[str, Any]:
    """A PUT body on a database target: PostgreSQL, MySQL and SQL take their password from the request."""
    spec = next(s for s in targets.all_specs() if s.secret_source and s.secret_source.from_request)
    target_id = spec.id_pattern.pattern.format(
        subscription=SUBSCRIPTION, resourceGroup="rg", name="srv", database="db"
    )
    return {"properties": {"targetService": {"type": "AzureResource", "id": target_id}, "authInfo": auth}}


def test_database_target_needs_a_user_and_a_password_from_the_request() -> None:
    with pytest.raises(RequestValidationError) as raised:
        parse_linker(LINKER_ID, _database_request({"authType": "secret"}), "2024-04-01")

    assert {(p.code, p.target) for p in raised.value.problems} == {
        ("MissingRequiredField", "properties.authInfo.name"),
        ("MissingRequiredField", "properties.authInfo.secretInfo"),
    }


def test_a_database_password_named_without_a_value_is_required() -> None:
    auth = {"authType": "secret", "name": "u", "secretInfo": {"secretType": "rawValue"}}

    with pytest.raises(RequestValidationError) as raised:
        parse_linker(LINKER_ID, _database_request(auth), "2024-04-01")

    assert {(p.code, p.target) for p in raised.value.problems} == {
        ("MissingRequiredField", "properties.authInfo.secretInfo.value"),
    }
