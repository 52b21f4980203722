"""`KubeLink`: the admin client other emulators (ARM) and tests use to drive the kube emulator."""

from __future__ import annotations

from typing import Any

import yaml

from emulators.common import EmulatorAdmin


class KubeLink(EmulatorAdmin):
    """Admin client for the kube emulator; `admin_url` may be the emulator URL or its `/_emulator` URL."""

    def __init__(self, admin_url: str, ca_file: str, timeout: float = 10.0) -> None:
        super().__init__(admin_url, ca_file, timeout)

    def register_cluster(self, key: str, entra: dict[str, Any] | None = None) -> dict[str, str]:
        """Create (or find) cluster `key`; returns `{"server", "token", "caData"}` (caData: base64 PEM).

        `entra` makes it Entra-integrated (emulators/kube/entra.py says what it holds); None leaves the
        cluster as it is (AKS cannot turn Entra integration off either).
        """
        body: dict[str, Any] = {"key": key} if entra is None else {"key": key, "entra": entra}
        info: dict[str, str] = self.call("POST", "/clusters", body)
        return info

    def apply_object(self, key: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace a Kubernetes object as given (status included); its namespace must exist."""
        stored: dict[str, Any] = self.call("POST", f"/clusters/{key}/objects", obj)
        return stored

    def delete_object(self, key: str, api_version: str, kind: str, namespace: str, name: str) -> None:
        """Delete an object (raises AdminCallError 404 when it is absent)."""
        self.call(
            "POST",
            f"/clusters/{key}/objects/delete",
            {"apiVersion": api_version, "kind": kind, "namespace": namespace, "name": name},
        )

    def set_pod_log(
        self, key: str, namespace: str, pod: str, text: str, container: str | None = None
    ) -> None:
        """Set the text `GET …/pods/{pod}/log` returns (for one container, or for the whole pod)."""
        query = f"?container={container}" if container else ""
        self.call("PUT", f"/clusters/{key}/pods/{namespace}/{pod}/log{query}", text=text)


def kubeconfig(key: str, cluster_info: dict[str, str]) -> dict[str, Any]:
    """A kubeconfig dict for one cluster that `kubernetes.config.new_client_from_config_dict` accepts."""
    user = f"clusterUser_{key}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": key,
                "cluster": {
                    "server": cluster_info["server"],
                    "certificate-authority-data": cluster_info["caData"],
                },
            }
        ],
        "users": [{"name": user, "user": {"token": cluster_info["token"]}}],
        "contexts": [{"name": key, "context": {"cluster": key, "user": user}}],
        "current-context": key,
        "preferences": {},
    }


# The client application AKS's Entra kubeconfigs name for kubelogin (the Azure Kubernetes Service AAD client).
AKS_CLIENT_APP_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"


def entra_kubeconfig(
    key: str, cluster_info: dict[str, str], server_app_id: str, tenant_id: str
) -> dict[str, Any]:
    """The user kubeconfig AKS returns for an Entra-integrated cluster: an exec (kubelogin) user, no token."""
    config = kubeconfig(key, cluster_info)
    config["users"][0]["user"] = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "kubelogin",
            "args": [
                "get-token",
                "--environment",
                "AzurePublicCloud",
                "--server-id",
                server_app_id,
                "--client-id",
                AKS_CLIENT_APP_ID,
                "--tenant-id",
                tenant_id,
                "--login",
                "devicecode",
            ],
            "env": None,
            "installHint": "kubelogin is not installed which is required to connect to AAD enabled cluster.",
            "provideClusterInfo": False,
            "interactiveMode": "IfAvailable",
        }
    }
    return config


def kubeconfig_yaml(key: str, cluster_info: dict[str, str]) -> str:
    """The same kubeconfig as YAML text (what AKS's listClusterUserCredential returns, base64-encoded)."""
    return yaml.safe_dump(kubeconfig(key, cluster_info), sort_keys=False)
