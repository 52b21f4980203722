"""The resource kinds the emulator serves, with where they live in the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Kind:
    """One served resource type."""

    kind: str
    plural: str
    group: str = ""
    version: str = "v1"
    namespaced: bool = True
    name_rule: str = "subdomain"  # "label" for namespaces
    tracks_generation: bool = False
    status_subresource: bool = False
    custom: bool = False  # CRDs accept no strategic merge patch
    default_status: dict[str, Any] = field(default_factory=dict)
    field_selectors: frozenset[str] = frozenset()

    @property
    def api_version(self) -> str:
        """`v1` or `batch/v1`."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        """`secrets` or `jobs.batch`, as messages name it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def prefix(self) -> str:
        """`/api/v1` or `/apis/batch/v1`."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    @property
    def list_kind(self) -> str:
        """`SecretList`."""
        return self.kind + "List"


NAMESPACE = Kind(
    "Namespace",
    "namespaces",
    namespaced=False,
    name_rule="label",
    status_subresource=True,
    default_status={"phase": "Active"},
    field_selectors=frozenset({"status.phase"}),
)
SECRET = Kind("Secret", "secrets", field_selectors=frozenset({"type"}))
SERVICE_ACCOUNT = Kind("ServiceAccount", "serviceaccounts")
CONFIG_MAP = Kind("ConfigMap", "configmaps")
POD = Kind(
    "Pod",
    "pods",
    tracks_generation=True,
    status_subresource=True,
    default_status={"phase": "Pending"},
    field_selectors=frozenset({"status.phase", "spec.nodeName", "spec.serviceAccountName"}),
)
EVENT = Kind(
    "Event",
    "events",
    field_selectors=frozenset(
        {
            "involvedObject.kind",
            "involvedObject.name",
            "involvedObject.namespace",
            "involvedObject.uid",
            "reason",
            "type",
            "source",
        }
    ),
)
JOB = Kind(
    "Job",
    "jobs",
    group="batch",
    tracks_generation=True,
    status_subresource=True,
    field_selectors=frozenset({"status.successful"}),
)
SECRET_PROVIDER_CLASS = Kind(
    "SecretProviderClass",
    "secretproviderclasses",
    group="secrets-store.csi.x-k8s.io",
    tracks_generation=True,
    custom=True,
)

KINDS: tuple[Kind, ...] = (
    NAMESPACE,
    SECRET,
    SERVICE_ACCOUNT,
    CONFIG_MAP,
    POD,
    EVENT,
    JOB,
    SECRET_PROVIDER_CLASS,
)


def kind_of(api_version: str, kind: str) -> Kind | None:
    """The served kind for an object's `apiVersion` and `kind`, if any."""
    for k in KINDS:
        if k.api_version == api_version and k.kind == kind:
            return k
    return None
