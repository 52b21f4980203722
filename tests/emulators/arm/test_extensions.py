# mypy: disable-error-code="union-attr, index, operator, no-untyped-call"
# (SDK models type every field Optional and the kubernetes client is untyped; these tests assert on both.)
"""Cluster extensions through KubernetesConfigurationExtensionsMgmtClient, with the kube side effects checked
through the kubernetes client. Fields per specification/kubernetesconfiguration/resource-manager/
Microsoft.KubernetesConfiguration/extensions/stable/2025-03-01/extensions.json.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.core.policies import _base as arm_policies
from azure.mgmt.kubernetesconfiguration.extensions import KubernetesConfigurationExtensionsMgmtClient
from azure.mgmt.resource.resources import ResourceManagementClient
from kubernetes import client as k8s

from emulators.arm import cluster_id, kube_key
from tests.fixtures.arm import DEMO_SUBSCRIPTION, ArmHarness

RG, CLUSTER_NAME, EXT = "rg-demo", "aks-demo-1", "sc-extension"
CLUSTER = cluster_id(DEMO_SUBSCRIPTION, RG, CLUSTER_NAME)
KC = "Microsoft.KubernetesConfiguration"
BODY = {
    "properties": {
        "extensionType": "microsoft.servicelinker.connection",
        "autoUpgradeMinorVersion": False,
        "releaseTrain": "stable",
        "version": "1.2.3",
        "scope": {"cluster": {"releaseNamespace": "sc-system"}},
        "configurationSettings": {"connection.name": "pg"},
        "configurationProtectedSettings": {"connection.secret": "s3cr3t-value"},
    }
}


def _args(name: str = EXT) -> tuple[str, str, str, str, str]:
    return RG, "Microsoft.ContainerService", "managedClusters", CLUSTER_NAME, name


@pytest.fixture
def extensions(arm: ArmHarness) -> KubernetesConfigurationExtensionsMgmtClient:
    arm.seed_demo()
    return arm.mgmt_client(KubernetesConfigurationExtensionsMgmtClient, auto_register=False)


@pytest.fixture
def registered(arm: ArmHarness, extensions: KubernetesConfigurationExtensionsMgmtClient) -> None:
    arm.mgmt_client(ResourceManagementClient).providers.register(KC)
    arm.advance(20)


def _install(arm: ArmHarness, extensions: KubernetesConfigurationExtensionsMgmtClient) -> Any:
    poller = extensions.extensions.begin_create(*_args(), BODY, polling_interval=0.01)
    arm.advance(45)  # extensionInstallSeconds in demo.yaml
    return poller.result(timeout=10)


def test_missing_subscription_registration_until_registered(
    arm: ArmHarness, extensions: KubernetesConfigurationExtensionsMgmtClient
) -> None:
    with pytest.raises(ResourceExistsError) as err:
        extensions.extensions.begin_create(*_args(), BODY, polling=False)
    assert err.value.status_code == 409
    assert err.value.error.code == "MissingSubscriptionRegistration"
    assert err.value.error.message == (
        "The subscription is not registered to use namespace 'Microsoft.KubernetesConfiguration'. "
        "See https://aka.ms/rps-not-found for how to register subscriptions."
    )
    resources = arm.mgmt_client(ResourceManagementClient)
    resources.providers.register(KC)
    with pytest.raises(ResourceExistsError):  # still Registering
        extensions.extensions.get(*_args())
    arm.advance(20)
    with pytest.raises(ResourceNotFoundError):  # registered: now the extension is simply absent
        extensions.extensions.get(*_args())


def test_sdk_auto_registration_policy_registers_and_retries(
    arm: ArmHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    arm.seed_demo()
    waits: list[float] = []

    def virtual_sleep(seconds: float) -> None:  # the policy polls every 10 s: advance instead of sleeping
        waits.append(seconds)
        arm.advance(seconds)

    monkeypatch.setattr(arm_policies, "time", types.SimpleNamespace(sleep=virtual_sleep))
    client = arm.mgmt_client(KubernetesConfigurationExtensionsMgmtClient)  # default pipeline, policy on
    # The LRO's initial PUT is streamed, so the policy cannot read the 409 body and the error surfaces
    # (azure-mgmt-core 1.6.0 with this typespec-generated SDK): callers must register themselves.
    with pytest.raises(ResourceExistsError) as err:
        client.extensions.begin_create(*_args(), BODY, polling=False)
    assert err.value.error.code == "MissingSubscriptionRegistration"
    assert waits == []
    # A plain GET is not streamed: the policy registers the provider, waits, and retries the GET.
    arm.admin.clear_journal()
    with pytest.raises(ResourceNotFoundError):
        client.extensions.get(*_args())
    assert waits == [10, 10]  # registrationDelaySeconds 20 in demo.yaml, polled every 10 s
    calls = [(e["method"], e["route"], e["status"], e["apiVersion"]) for e in arm.admin.journal()["entries"]]
    assert calls == [
        ("GET", "extension", 409, "2025-03-01"),
        ("POST", "provider/register", 200, "2016-02-01"),
        ("GET", "provider", 200, "2016-02-01"),
        ("GET", "provider", 200, "2016-02-01"),
        ("GET", "extension", 404, "2025-03-01"),
    ]
    assert (
        client.extensions.begin_create(*_args(), BODY, polling=False).result().properties.provisioning_state
        == "Creating"
    )


def test_install_is_an_lro_and_writes_the_helm_release(
    arm: ArmHarness, extensions: KubernetesConfigurationExtensionsMgmtClient, registered: None
) -> None:
    poller = extensions.extensions.begin_create(*_args(), BODY, polling_interval=0.01)
    assert extensions.extensions.get(*_args()).properties.provisioning_state == "Creating"
    arm.advance(45)
    ext = poller.result(timeout=10)
    props = ext.properties
    assert props.provisioning_state == "Succeeded"
    assert props.extension_type == "microsoft.servicelinker.connection"
    assert props.release_train == "stable" and props.version == "1.2.3"
    assert props.auto_upgrade_minor_version is False
    assert props.scope.cluster.release_namespace == "sc-system"
    assert props.configuration_settings == {"connection.name": "pg"}
    assert not props.configuration_protected_settings  # write-only: never returned
    assert props.statuses == []
    assert "s3cr3t-value" not in str(ext.as_dict())
    core = k8s.CoreV1Api(arm.kube.client_for(kube_key(CLUSTER)))
    assert core.read_namespace("sc-system").metadata.name == "sc-system"
    release = core.read_namespaced_secret("sh.helm.release.v1.sc-extension.v1", "sc-system")
    assert release.type == "helm.sh/release.v1"
    assert release.metadata.labels == {"name": EXT, "owner": "helm", "status": "deployed", "version": "1"}


def test_operation_status_is_served_for_the_sdk(
    arm: ArmHarness, extensions: KubernetesConfigurationExtensionsMgmtClient, registered: None
) -> None:
    headers: dict[str, str] = {}

    def capture(response: Any, deserialized: Any, _: Any) -> Any:
        headers.update(response.http_response.headers)
        return deserialized

    extensions.extensions.begin_create(*_args(), BODY, polling=False, cls=capture).result()
    operation_id = headers["Azure-AsyncOperation"].split("?")[0].rsplit("/", 1)[-1]
    assert extensions.operation_status.get(*_args(), operation_id).status == "InProgress"
    arm.advance(45)
    assert extensions.operation_status.get(*_args(), operation_id).status == "Succeeded"


def test_list_update_and_delete(
    arm: ArmHarness, extensions: KubernetesConfigurationExtensionsMgmtClient, registered: None
) -> None:
    _install(arm, extensions)
    assert [e.name for e in extensions.extensions.list(*_args()[:4])] == [EXT]
    poller = extensions.extensions.begin_update(
        *_args(), {"properties": {"version": "1.3.0"}}, polling_interval=0.01
    )
    arm.advance(45)
    assert poller.result(timeout=10).properties.version == "1.3.0"
    core = k8s.CoreV1Api(arm.kube.client_for(kube_key(CLUSTER)))
    labels = {
        s.metadata.name: s.metadata.labels["status"]
        for s in core.list_namespaced_secret("sc-system", label_selector="owner=helm").items
    }
    assert labels == {
        "sh.helm.release.v1.sc-extension.v1": "superseded",
        "sh.helm.release.v1.sc-extension.v2": "deployed",
    }
    deleting = extensions.extensions.begin_delete(*_args(), polling_interval=0.01)
    assert extensions.extensions.get(*_args()).properties.provisioning_state == "Deleting"
    arm.advance(15)
    deleting.result(timeout=10)
    with pytest.raises(ResourceNotFoundError):
        extensions.extensions.get(*_args())
    assert core.list_namespaced_secret("sc-system", label_selector="owner=helm").items == []


def test_write_while_cluster_updating_gets_409(
    arm: ArmHarness, extensions: KubernetesConfigurationExtensionsMgmtClient, registered: None
) -> None:
    arm.admin.call("POST", "/arm/busy", {"resourceId": CLUSTER, "seconds": 60})
    with pytest.raises(ResourceExistsError) as err:
        extensions.extensions.begin_create(*_args(), BODY, polling=False)
    assert err.value.status_code == 409
    assert err.value.error.code == "OperationNotAllowed"  # an assumption: docs/error-codes.md
    assert "Updating" in err.value.error.message
    arm.advance(60)
    assert _install(arm, extensions).properties.provisioning_state == "Succeeded"


def test_write_while_extension_installing_gets_409(
    arm: ArmHarness, extensions: KubernetesConfigurationExtensionsMgmtClient, registered: None
) -> None:
    extensions.extensions.begin_create(*_args(), BODY, polling=False)
    with pytest.raises(ResourceExistsError) as put:
        extensions.extensions.begin_create(*_args(), BODY, polling=False)
    with pytest.raises(ResourceExistsError) as patch:
        extensions.extensions.begin_update(
            *_args(), {"properties": {"releaseTrain": "Stable"}}, polling=False
        )
    # The extension RP's code and text for a PATCH (Azure/azure-cli-extensions#7502); PUT by assumption.
    assert (put.value.error.code, patch.value.error.code) == ("ExtensionPutFailed", "ExtensionPatchFailed")
    assert "(ProvisioningState of extension: Creating)" in patch.value.error.message


def test_injected_install_failure_leaves_statuses_helm_and_sc_job_logs(
    arm: ArmHarness,
    extensions: KubernetesConfigurationExtensionsMgmtClient,
    registered: None,
    kube_client_for: Callable[[str], Any],
) -> None:
    arm.admin.call(
        "POST", "/arm/install-failures", {"clusterId": CLUSTER, "logs": "step 1\nboom: no egress\n"}
    )
    poller = extensions.extensions.begin_create(*_args(), BODY, polling_interval=0.01)
    arm.advance(45)
    with pytest.raises(HttpResponseError) as err:
        poller.result(timeout=10)
    assert err.value.error.code == "ExtensionOperationFailed"
    ext = extensions.extensions.get(*_args())
    assert ext.properties.provisioning_state == "Failed"
    (status,) = ext.properties.statuses or []
    assert status.level == "Error" and status.code and status.display_status
    assert status.message.startswith("Helm installation failed")
    api = arm.kube.client_for(kube_key(CLUSTER))
    core, batch = k8s.CoreV1Api(api), k8s.BatchV1Api(api)
    release = core.read_namespaced_secret("sh.helm.release.v1.sc-extension.v1", "sc-system")
    assert release.metadata.labels["status"] == "failed"
    job = batch.read_namespaced_job("sc-job", "sc-system")
    assert job.status.failed == 1
    assert [c.type for c in job.status.conditions] == ["Failed"]
    pods = core.list_namespaced_pod("sc-system", label_selector="job-name=sc-job").items or []
    (pod_name,) = [p.metadata.name for p in pods if p.metadata and p.metadata.name]
    assert pod_name.startswith("sc-job-")
    assert core.read_namespaced_pod_log(pod_name, "sc-system") == "step 1\nboom: no egress\n"
    # Clearing the failure and reinstalling succeeds and removes the failed job.
    arm.admin.call("DELETE", "/arm/install-failures")
    assert _install(arm, extensions).properties.provisioning_state == "Succeeded"
    assert core.list_namespaced_pod("sc-system", label_selector="job-name=sc-job").items == []


def test_instant_settings_finish_operations_without_advancing(
    arm: ArmHarness, extensions: KubernetesConfigurationExtensionsMgmtClient
) -> None:
    arm.instant()
    arm.mgmt_client(ResourceManagementClient).providers.register(KC)
    ext = extensions.extensions.begin_create(*_args(), BODY).result(timeout=10)
    assert ext.properties.provisioning_state == "Succeeded"
