"""Confluent Cloud on AKS as `az aks connection create confluent-cloud` does it, with the official client.

The CLI (azure-cli serviceconnector custom.py `connection_create_kafka`) creates two linkers: `<name>` with
targetService {type: ConfluentBootstrapServer, endpoint} and `<name>_schema` with {type:
ConfluentSchemaRegistry, endpoint}, each with secret auth carrying the API key as `name` and the API secret
as a rawValue. The Secret keys and value formats are those of
https://learn.microsoft.com/azure/service-connector/how-to-integrate-confluent-kafka. The instance runs with
ALLOWED_SCOPES set (the demo subscription): a target outside Azure is not refused for lacking an ARM id.
"""

from __future__ import annotations

import json
from typing import Any

from azure.mgmt.servicelinker.models import (
    ConfluentBootstrapServer,
    ConfluentSchemaRegistry,
    LinkerResource,
    SecretAuthInfo,
    ValueSecretInfo,
)
from kubernetes import client as k8s

from emulators.arm import kube_key
from tests.e2e.conftest import API, CLUSTER, E2E
from tests.e2e.sdk_preview.harness import run_steps

LINKERS = f"{CLUSTER}/providers/Microsoft.ServiceLinker/linkers"
BOOTSTRAP = "pkc-4r297.eastus.azure.confluent.cloud:9092"
REGISTRY = "https://psrc-gq7pv.westus2.azure.confluent.cloud"
KAFKA_KEY, KAFKA_SECRET = "K4FKAKEY0000ABCD", "kafka+Secret/Value0123456789abcdefghijklmnopqrstuvwxyz=="
SCHEMA_KEY, SCHEMA_SECRET = "SCHEMAKEY000WXYZ", "schema+Secret/Value9876543210zyxwvutsrqponmlkjihgfedcba=="


def _linker(target: Any, key: str, secret: str) -> LinkerResource:
    return LinkerResource(
        target_service=target,
        auth_info=SecretAuthInfo(name=key, secret_info=ValueSecretInfo(value=secret)),
        client_type="python",
        scope="default",
    )


def test_the_cli_pair_of_confluent_linkers_writes_the_documented_keys(e2e: E2E) -> None:
    client = e2e.linker_client()

    server = client.linker.begin_create_or_update(
        CLUSTER, "kafkaconn", _linker(ConfluentBootstrapServer(endpoint=BOOTSTRAP), KAFKA_KEY, KAFKA_SECRET)
    ).result()
    registry = client.linker.begin_create_or_update(
        CLUSTER,
        "kafkaconn_schema",
        _linker(ConfluentSchemaRegistry(endpoint=REGISTRY), SCHEMA_KEY, SCHEMA_SECRET),
    ).result()

    assert (server.provisioning_state, registry.provisioning_state) == ("Succeeded", "Succeeded")
    assert e2e.kube_secret(CLUSTER, "default", "sc-kafkaconn-secret") == {
        "AZURE_CONFLUENTCLOUDKAFKA_BOOTSTRAPSERVER": BOOTSTRAP,
        "AZURE_CONFLUENTCLOUDKAFKA_KAFKASASLCONFIG": (
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            f"username='{KAFKA_KEY}' password='{KAFKA_SECRET}';"
        ),
    }
    assert e2e.kube_secret(CLUSTER, "default", "sc-kafkaconnschema-secret") == {
        "AZURE_CONFLUENTCLOUDSCHEMAREGISTRY_URL": REGISTRY,
        "AZURE_CONFLUENTCLOUDSCHEMAREGISTRY_USERINFO": f"{SCHEMA_KEY}:{SCHEMA_SECRET}",
    }


def test_a_confluent_linker_reads_back_by_endpoint_and_lists_its_keys_without_the_secret(e2e: E2E) -> None:
    client = e2e.linker_client()
    client.linker.begin_create_or_update(
        CLUSTER, "kafkaconn", _linker(ConfluentBootstrapServer(endpoint=BOOTSTRAP), KAFKA_KEY, KAFKA_SECRET)
    ).result()

    status, _, body = e2e.http("GET", f"{LINKERS}/kafkaconn?api-version={API}")
    listed = client.linker.list_configurations(CLUSTER, "kafkaconn").configurations

    assert status == 200
    assert body["properties"]["targetService"] == {"type": "ConfluentBootstrapServer", "endpoint": BOOTSTRAP}
    assert body["properties"]["authInfo"]["name"] == KAFKA_KEY
    assert {c.name: c.value for c in listed} == {
        "AZURE_CONFLUENTCLOUDKAFKA_BOOTSTRAPSERVER": BOOTSTRAP,
        "AZURE_CONFLUENTCLOUDKAFKA_KAFKASASLCONFIG": None,
    }
    assert KAFKA_SECRET not in json.dumps(body)


def test_a_bootstrap_server_written_as_a_url_is_refused_and_nothing_is_written(e2e: E2E) -> None:
    body = {
        "properties": {
            "targetService": {"type": "ConfluentBootstrapServer", "endpoint": REGISTRY},
            "authInfo": {
                "authType": "secret",
                "name": KAFKA_KEY,
                "secretInfo": {"secretType": "rawValue", "value": KAFKA_SECRET},
            },
            "scope": "default",
        }
    }

    status, _, answer = e2e.http("PUT", f"{LINKERS}/kafkabad?api-version={API}", body)

    assert status == 400, answer
    assert answer["error"]["code"] == "InvalidFieldValue"
    assert answer["error"]["target"] == "properties.targetService.endpoint"
    assert KAFKA_SECRET not in json.dumps(answer)
    assert e2e.http("GET", f"{LINKERS}/kafkabad?api-version={API}")[0] == 404
    assert e2e.kube_secret(CLUSTER, "default", "sc-kafkabad-secret") is None


def _cli_kafka_parameters(service_type: str, endpoint: str, key: str, secret: str) -> dict[str, Any]:
    # azure-cli serviceconnector custom.py `connection_create_kafka`, for an AKS source (scope = namespace,
    # --client-type and --vault-id left out).
    return {
        "target_service": {"type": service_type, "endpoint": endpoint},
        "auth_info": {
            "name": key,
            "secret_info": {"secret_type": "rawValue", "value": secret},
            "auth_type": "secret",
        },
        "secret_store": {"key_vault_id": None},
        "client_type": None,
        "scope": "default",
    }


def test_az_aks_connection_create_confluent_cloud_through_the_cli_sdk(e2e: E2E) -> None:
    results = run_steps(
        e2e.url,
        e2e.key,
        [
            {
                "op": "create",
                "resourceUri": CLUSTER,
                "name": "kafkacli",
                "parameters": _cli_kafka_parameters(
                    "ConfluentBootstrapServer", BOOTSTRAP, KAFKA_KEY, KAFKA_SECRET
                ),
            },
            {
                "op": "create",
                "resourceUri": CLUSTER,
                "name": "kafkacli_schema",
                "parameters": _cli_kafka_parameters(
                    "ConfluentSchemaRegistry", REGISTRY, SCHEMA_KEY, SCHEMA_SECRET
                ),
            },
            {"op": "list_configurations", "resourceUri": CLUSTER, "name": "kafkacli_schema"},
        ],
    )

    assert all(r["ok"] for r in results), results
    server, registry, listed = (r["value"] for r in results)
    assert (server["provisioning_state"], registry["provisioning_state"]) == ("Succeeded", "Succeeded")
    assert server["client_type"] == "none"  # the API's default when the CLI sends none
    assert registry["target_service"] == {"type": "ConfluentSchemaRegistry", "endpoint": REGISTRY}
    assert e2e.kube_secret(CLUSTER, "default", "sc-kafkacli-secret") is not None
    assert e2e.kube_secret(CLUSTER, "default", "sc-kafkaclischema-secret") == {
        "AZURE_CONFLUENTCLOUDSCHEMAREGISTRY_URL": REGISTRY,
        "AZURE_CONFLUENTCLOUDSCHEMAREGISTRY_USERINFO": f"{SCHEMA_KEY}:{SCHEMA_SECRET}",
    }
    assert [c["name"] for c in listed["configurations"]] == [
        "AZURE_CONFLUENTCLOUDSCHEMAREGISTRY_URL",
        "AZURE_CONFLUENTCLOUDSCHEMAREGISTRY_USERINFO",
    ]


def test_az_aks_connection_update_confluent_cloud_keeps_the_stored_secret(e2e: E2E) -> None:
    # `connection_update_kafka` puts the new secret under auth_info["secret"], which the SDK's SecretAuthInfo
    # does not have: the body names the API key and no secret, and (for the bootstrap server) no scope.
    update = {
        "targetService": {"type": "ConfluentBootstrapServer", "endpoint": BOOTSTRAP},
        "auth_info": {"name": KAFKA_KEY, "secret": "not-sent-by-the-sdk", "auth_type": "secret"},
        "secret_store": {"key_vault_id": None},
        "client_type": "java",
    }
    created = _cli_kafka_parameters("ConfluentBootstrapServer", BOOTSTRAP, KAFKA_KEY, KAFKA_SECRET)

    results = run_steps(
        e2e.url,
        e2e.key,
        [
            {"op": "create", "resourceUri": CLUSTER, "name": "kafkaupd", "parameters": created},
            {"op": "create", "resourceUri": CLUSTER, "name": "kafkaupd", "parameters": update},
        ],
    )

    assert all(r["ok"] for r in results), results
    assert results[1]["value"]["client_type"] == "java"
    secret = e2e.kube_secret(CLUSTER, "default", "sc-kafkaupd-secret")
    assert secret is not None
    assert (
        f"username='{KAFKA_KEY}' password='{KAFKA_SECRET}';"
        in secret["AZURE_CONFLUENTCLOUDKAFKA_KAFKASASLCONFIG"]
    )


def _reconcile(e2e: E2E) -> dict[str, Any]:
    status, headers, _ = e2e.http("POST", "/api/reconcile")
    assert status == 202
    done = e2e.wait_operation(headers["Azure-AsyncOperation"], timeout=60)
    assert done["status"] == "Succeeded", done
    return dict(done["properties"])


def test_a_reconcile_rebuilds_a_deleted_confluent_secret_from_the_sealed_api_secret_and_reads_no_arm(
    e2e: E2E,
) -> None:
    client = e2e.linker_client()
    client.linker.begin_create_or_update(
        CLUSTER, "kafkarec", _linker(ConfluentBootstrapServer(endpoint=BOOTSTRAP), KAFKA_KEY, KAFKA_SECRET)
    ).result()
    before = e2e.kube_secret(CLUSTER, "default", "sc-kafkarec-secret")
    assert _reconcile(e2e)["drifted"] == 0

    k8s.CoreV1Api(e2e.arm.kube.client_for(kube_key(CLUSTER))).delete_namespaced_secret(
        "sc-kafkarec-secret", "default"
    )
    e2e.arm.admin.clear_journal()

    assert _reconcile(e2e)["repaired"] == 1
    assert e2e.kube_secret(CLUSTER, "default", "sc-kafkarec-secret") == before
    # The endpoint is no ARM resource: ARM saw only the cluster's own calls (and provider registrations).
    subscription_providers = CLUSTER.lower().split("/resourcegroups/")[0] + "/providers/"
    paths = [e["path"].lower() for e in e2e.arm.admin.journal()["entries"]]
    assert all(p.startswith((CLUSTER.lower(), subscription_providers)) for p in paths), paths
