# mypy: disable-error-code="union-attr, no-untyped-call, index, arg-type"
"""What the product left in Azure and on the clusters, read with the real SDK clients (as a user would look).

Works the same on in-process emulators and on emulator processes: role assignments and federated
credentials from ARM, the connector's Kubernetes objects through each cluster's user kubeconfig
(listClusterUserCredential). Server-set metadata (resourceVersions, timestamps) is left out.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import yaml
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from connector import naming

SUB = "00000000-0000-0000-0000-000000000001"
GROUP = "rg-demo"
CLUSTERS = ("aks-demo-1", "aks-demo-2")
IDENTITIES = ("id-demo-workload",)


@dataclass(frozen=True)
class StateDump:
    """Role assignments, federated credentials and the connector's Secrets, as sorted tuples."""

    role_assignments: tuple[tuple[str, str, str], ...]  # (scope, principalId, role GUID)
    federated_credentials: tuple[tuple[str, str, str, str], ...]  # (identity, name, issuer, subject)
    secrets: tuple[tuple[str, str, str, str], ...]  # (cluster, namespace, name, content hash)

    def duplicates(self) -> dict[str, list[Any]]:
        """Anything present twice: one role per principal and scope, one credential per subject, one Secret
        per linker (the linker-hash label)."""
        found: dict[str, list[Any]] = {}
        roles = Counter(self.role_assignments)
        subjects = Counter((who, issuer, subject) for who, _, issuer, subject in self.federated_credentials)
        found["role_assignments"] = [k for k, n in roles.items() if n > 1]
        found["federated_credentials"] = [k for k, n in subjects.items() if n > 1]
        found["secrets"] = [k for k, n in Counter(s[:3] for s in self.secrets).items() if n > 1]
        return {k: v for k, v in found.items() if v}

    def summary(self) -> str:
        """`N role assignments, N federated credentials, N Secrets`."""
        return (
            f"{len(self.role_assignments)} role assignments, {len(self.federated_credentials)} federated "
            f"credentials, {len(self.secrets)} Secrets"
        )


def dump(arm_url: str, ca_file: str, credential: Any, *, clusters: tuple[str, ...] = CLUSTERS) -> StateDump:
    """Read the state the connector is responsible for from ARM and every demo cluster."""
    options: dict[str, Any] = {"base_url": arm_url, "connection_verify": ca_file, "retry_total": 3}
    authz = AuthorizationManagementClient(credential, SUB, **options)
    roles = sorted(
        (
            str(a.scope).lower(),
            str(a.principal_id),
            str(a.role_definition_id).rsplit("/", 1)[-1],
        )
        for a in authz.role_assignments.list_for_subscription()
    )
    msi = ManagedServiceIdentityClient(credential, SUB, **options)
    credentials = sorted(
        (identity, str(c.name), str(c.issuer), str(c.subject))
        for identity in IDENTITIES
        for c in msi.federated_identity_credentials.list(GROUP, identity)
    )
    aks = ContainerServiceClient(credential, SUB, **options)
    secrets = sorted(s for cluster in clusters for s in _connector_secrets(aks, cluster))
    return StateDump(tuple(roles), tuple(credentials), tuple(secrets))


def _connector_secrets(aks: ContainerServiceClient, cluster: str) -> list[tuple[str, str, str, str]]:
    listed = aks.managed_clusters.list_cluster_user_credentials(GROUP, cluster)
    kubeconfig = yaml.safe_load(listed.kubeconfigs[0].value)
    api = k8s_config.new_client_from_config_dict(kubeconfig)
    try:
        found = k8s.CoreV1Api(api).list_secret_for_all_namespaces(label_selector=naming.managed_by_selector())
        return [
            (
                cluster,
                str(s.metadata.namespace),
                str((s.metadata.labels or {}).get(naming.LINKER_HASH_LABEL, s.metadata.name)),
                hashlib.sha256(json.dumps(s.data or {}, sort_keys=True).encode()).hexdigest()[:16],
            )
            for s in found.items
        ]
    finally:
        api.close()
