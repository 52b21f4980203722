"""In-memory ARM state: subscriptions, providers, resource groups and resources, plus pending operations.

Everything time-dependent (provider registration, cluster updates, extension installs) stores the moment it
completes on the injectable clock; `settle()` finalises whatever is due. Every request settles first, so a
test that advances the virtual clock sees the new state on its next call without anybody sleeping.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from emulators.common.clock import Clock

DEFAULT_TENANT = "11111111-1111-1111-1111-111111111111"
DEFAULT_LOCATION = "eastus"

# Resource providers a new subscription knows, all Registered unless a seed says otherwise.
KNOWN_PROVIDERS = (
    "Microsoft.Resources",
    "Microsoft.ContainerService",
    "Microsoft.KubernetesConfiguration",
    "Microsoft.ManagedIdentity",
    "Microsoft.Authorization",
    "Microsoft.Storage",
    "Microsoft.ServiceBus",
    "Microsoft.EventHub",
    "Microsoft.KeyVault",
    "Microsoft.DocumentDB",
    "Microsoft.AppConfiguration",
    "Microsoft.Cache",
    "Microsoft.CognitiveServices",
    "Microsoft.DBforPostgreSQL",
    "Microsoft.DBforMySQL",
    "Microsoft.Sql",
    "Microsoft.ServiceLinker",
)


class KubeLinkLike(Protocol):
    """What the ARM emulator needs from the Kubernetes emulator (emulators.kube.link.KubeLink)."""

    def register_cluster(self, key: str, entra: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def apply_object(self, key: str, obj: dict[str, Any]) -> Any: ...

    def delete_object(self, key: str, api_version: str, kind: str, namespace: str, name: str) -> Any: ...

    def set_pod_log(self, key: str, namespace: str, pod: str, text: str) -> Any: ...


@dataclass
class Settings:
    """Durations (seconds on the emulator clock) and limits; changed by seeds and the admin API."""

    registration_delay: float = 10.0
    cluster_update_seconds: float = 30.0
    extension_install_seconds: float = 30.0
    extension_delete_seconds: float = 10.0
    fic_write_latency: float = 0.02  # real seconds a federated credential write holds its identity
    fic_limit: int = 20
    principal_replication_seconds: float = 0.0  # PrincipalNotFound window (emulators/arm/replication.py)
    principal_replication_typed_seconds: float = 0.0  # the same window even with principalType set
    list_page_size: int = 100  # items per ARM list page before a nextLink (handlers/common.py page())

    def update(self, values: dict[str, Any]) -> None:
        """Set fields from camelCase or snake_case keys (unknown keys raise KeyError)."""
        aliases = {
            "registrationDelaySeconds": "registration_delay",
            "clusterUpdateSeconds": "cluster_update_seconds",
            "extensionInstallSeconds": "extension_install_seconds",
            "extensionDeleteSeconds": "extension_delete_seconds",
            "ficWriteLatencySeconds": "fic_write_latency",
            "ficLimit": "fic_limit",
            "principalReplicationSeconds": "principal_replication_seconds",  # replication window
            "principalReplicationTypedSeconds": "principal_replication_typed_seconds",
            "listPageSize": "list_page_size",  # items per ARM list page
        }
        for key, value in values.items():
            attr = aliases.get(key, key)
            if not hasattr(self, attr):
                raise KeyError(key)
            setattr(self, attr, type(getattr(self, attr))(value))

    def as_dict(self) -> dict[str, Any]:
        """The settings as camelCase JSON."""
        return {
            "registrationDelaySeconds": self.registration_delay,
            "clusterUpdateSeconds": self.cluster_update_seconds,
            "extensionInstallSeconds": self.extension_install_seconds,
            "extensionDeleteSeconds": self.extension_delete_seconds,
            "ficWriteLatencySeconds": self.fic_write_latency,
            "ficLimit": self.fic_limit,
            "principalReplicationSeconds": self.principal_replication_seconds,  # replication window
            "principalReplicationTypedSeconds": self.principal_replication_typed_seconds,
            "listPageSize": self.list_page_size,  # items per ARM list page
        }


@dataclass
class Provider:
    """A resource provider's registration on one subscription."""

    namespace: str
    state: str = "Registered"
    registered_at: float | None = None  # when a Registering provider becomes Registered


@dataclass
class Resource:
    """One ARM resource: its JSON as served, its secret material (never in a GET), and emulator extras."""

    id: str
    type: str
    body: dict[str, Any]
    secrets: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The last segment of the id."""
        return self.id.rstrip("/").rsplit("/", 1)[-1]

    @property
    def properties(self) -> dict[str, Any]:
        """The resource's `properties` object (created empty when missing)."""
        props: dict[str, Any] = self.body.setdefault("properties", {})
        return props


@dataclass
class Operation:
    """A long-running operation reported through `Azure-AsyncOperation`."""

    id: str
    namespace: str
    location: str
    resource_id: str
    started: str
    done_at: float
    status: str = "InProgress"
    error: dict[str, Any] | None = None
    ended: str | None = None
    path: str | None = None  # where the provider serves this status, when not under /locations/

    def body(self) -> dict[str, Any]:
        """The operation status JSON ARM polls return."""
        out: dict[str, Any] = {
            "id": self.url_path(),
            "name": self.id,
            "status": self.status,
            "startTime": self.started,
        }
        if self.ended:
            out["endTime"] = self.ended
        if self.error:
            out["error"] = self.error
        return out

    def url_path(self) -> str:
        """Path of this operation's status resource."""
        if self.path:
            return self.path
        sub = self.resource_id.split("/")[2]
        return (
            f"/subscriptions/{sub}/providers/{self.namespace}/locations/{self.location}/operations/{self.id}"
        )


@dataclass
class Subscription:
    """A subscription: providers, resource groups (name → location) and nothing else; resources are global."""

    id: str
    display_name: str
    providers: dict[str, Provider] = field(default_factory=dict)
    resource_groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower name → RG JSON

    def provider(self, namespace: str) -> Provider | None:
        """The provider by namespace, case-insensitively."""
        return self.providers.get(namespace.lower())


@dataclass
class InstallFailure:
    """An injected failure for the next extension installs on one cluster."""

    message: str
    logs: str
    code: str = "ExtensionOperationFailed"
    outcome: str = "Failed"  # or "Canceled": the terminal provisioningState the install ends in


# A hook run when a pending item completes; the kube side effects of extension installs live there.
CompletionHook = Callable[["ArmState", Resource], None]


class ArmState:
    """All ARM data of one emulator instance, guarded by one re-entrant lock."""

    def __init__(self, clock: Clock | None = None, kube: KubeLinkLike | None = None) -> None:
        self.clock = clock or Clock()
        self.kube = kube
        self.lock = threading.RLock()
        self.settings = Settings()
        self.tenant_id = DEFAULT_TENANT
        self.subscriptions: dict[str, Subscription] = {}
        self.resources: dict[str, Resource] = {}
        self.operations: dict[str, Operation] = {}
        self.install_failures: dict[str, InstallFailure] = {}  # lower cluster id → failure
        self.extra_role_definitions: set[str] = set()
        self.fic_writes_in_flight: set[str] = set()  # lower identity ids
        self.on_extension_done: CompletionHook | None = None
        self.on_extension_deleted: CompletionHook | None = None
        # A vault's data-plane URI, once the emulator listens (emulators/arm/key_vault.py VaultListeners).
        self.vault_uri: Callable[[str], str] | None = None
        # Where the kube emulator reads role assignments for Azure RBAC on Entra clusters (admin API), and the
        # CA (base64 PEM) it must trust there; set once the emulator listens.
        self.role_assignments_url = ""
        self.ca_data = ""

    # ---------------------------------------------------------------- lifecycle
    def reset(self) -> None:
        """Forget every subscription, resource, operation and injected failure; keep clock and kube link."""
        with self.lock:
            self.settings = Settings()
            self.tenant_id = DEFAULT_TENANT
            self.subscriptions.clear()
            self.resources.clear()
            self.operations.clear()
            self.install_failures.clear()
            self.extra_role_definitions.clear()
            self.fic_writes_in_flight.clear()

    def now(self) -> float:
        """The emulator clock's current time."""
        return self.clock.now()

    def timestamp(self) -> str:
        """The emulator clock's current time as RFC 3339."""
        return self.clock.timestamp()

    # ---------------------------------------------------------------- subscriptions and groups
    def add_subscription(self, sub_id: str, display_name: str = "") -> Subscription:
        """Create (or return) a subscription with every known provider Registered."""
        key = sub_id.lower()
        sub = self.subscriptions.get(key)
        if sub is None:
            sub = Subscription(sub_id, display_name or f"Subscription {sub_id}")
            for ns in KNOWN_PROVIDERS:
                sub.providers[ns.lower()] = Provider(ns)
            self.subscriptions[key] = sub
        return sub

    def subscription(self, sub_id: str) -> Subscription | None:
        """A subscription by id, case-insensitively."""
        return self.subscriptions.get(sub_id.lower())

    def add_resource_group(self, sub_id: str, name: str, location: str = DEFAULT_LOCATION) -> dict[str, Any]:
        """Create (or return) a resource group."""
        sub = self.add_subscription(sub_id)
        rg = sub.resource_groups.get(name.lower())
        if rg is None:
            rg = {
                "id": f"/subscriptions/{sub.id}/resourceGroups/{name}",
                "name": name,
                "type": "Microsoft.Resources/resourceGroups",
                "location": location,
                "properties": {"provisioningState": "Succeeded"},
            }
            sub.resource_groups[name.lower()] = rg
        return rg

    def resource_group(self, sub_id: str, name: str) -> dict[str, Any] | None:
        """A resource group's JSON, or None."""
        sub = self.subscription(sub_id)
        return None if sub is None else sub.resource_groups.get(name.lower())

    # ---------------------------------------------------------------- resources
    def get(self, resource_id: str) -> Resource | None:
        """A resource by id, case-insensitively (as ARM matches ids)."""
        return self.resources.get(normalize_id(resource_id))

    def put(self, resource: Resource) -> Resource:
        """Store a resource under its id."""
        self.resources[normalize_id(resource.id)] = resource
        return resource

    def delete(self, resource_id: str) -> Resource | None:
        """Remove a resource and everything nested under it; returns the removed resource."""
        key = normalize_id(resource_id)
        removed = self.resources.pop(key, None)
        for child in [k for k in self.resources if k.startswith(key + "/")]:
            del self.resources[child]
        return removed

    def children(self, parent_id: str, child_type: str) -> list[Resource]:
        """Direct children of `parent_id` of the given type segment (e.g. `federatedIdentityCredentials`)."""
        prefix = normalize_id(parent_id) + "/" + child_type.lower() + "/"
        return [r for k, r in self.resources.items() if k.startswith(prefix) and "/" not in k[len(prefix) :]]

    def of_type(self, resource_type: str) -> Iterator[Resource]:
        """Every resource of a full type such as `Microsoft.ContainerService/managedClusters`."""
        wanted = resource_type.lower()
        return (r for r in list(self.resources.values()) if r.type.lower() == wanted)

    # ---------------------------------------------------------------- operations and time
    def start_operation(
        self, namespace: str, resource: Resource, seconds: float, status_path: str | None = None
    ) -> Operation:
        """Record a long-running operation on `resource` that completes after `seconds` on the clock."""
        op = Operation(
            id=str(uuid.uuid4()),
            namespace=namespace,
            location=str(resource.body.get("location") or DEFAULT_LOCATION).replace(" ", "").lower(),
            resource_id=resource.id,
            started=self.timestamp(),
            done_at=self.now() + max(0.0, seconds),
        )
        if status_path:
            op.path = f"{status_path}/{op.id}"
        self.operations[op.id] = op
        resource.extra["operation"] = op.id
        return op

    def settle(self) -> None:
        """Finish every registration, cluster update, extension operation and LRO whose time has come."""
        with self.lock:
            now = self.now()
            for sub in self.subscriptions.values():
                for provider in sub.providers.values():
                    if (
                        provider.state == "Registering"
                        and provider.registered_at is not None
                        and provider.registered_at <= now
                    ):
                        provider.state = "Registered"
                        provider.registered_at = None
            for resource in list(self.resources.values()):
                busy_until = resource.extra.get("busy_until")
                if busy_until is not None and busy_until <= now:
                    self._finish(resource)
            for op in self.operations.values():
                if op.status == "InProgress" and op.done_at <= now:
                    self._finish_operation(op)

    def _finish(self, resource: Resource) -> None:
        resource.extra.pop("busy_until", None)
        resource.extra.pop("busy_operation", None)
        resource.extra.pop("busy_since", None)
        kind = resource.type.lower()
        if kind == "microsoft.kubernetesconfiguration/extensions":
            if resource.extra.get("deleting"):
                if self.on_extension_deleted:
                    self.on_extension_deleted(self, resource)
                self.delete(resource.id)
                return
            if self.on_extension_done:
                self.on_extension_done(self, resource)
            else:
                resource.properties["provisioningState"] = "Succeeded"
        else:
            resource.properties["provisioningState"] = "Succeeded"

    def _finish_operation(self, op: Operation) -> None:
        op.ended = self.timestamp()
        resource = self.get(op.resource_id)
        state = "Succeeded" if resource is None else resource.properties.get("provisioningState", "Succeeded")
        ended_badly = state in ("Failed", "Canceled")  # a Canceled install ends its operation Canceled
        if resource is not None and resource.extra.get("operation") == op.id and ended_badly:
            op.status = str(state)
            op.error = dict(resource.extra.get("failure_error") or {"code": "Failed", "message": "failed"})
        else:
            op.status = "Succeeded"

    def make_busy(self, resource: Resource, seconds: float, operation: str = "update") -> None:
        """Put a resource into Updating for `seconds` on the clock (writes to a busy cluster get 409)."""
        resource.properties["provisioningState"] = "Updating"
        resource.extra["busy_until"] = self.now() + max(0.0, seconds)
        resource.extra["busy_operation"] = operation
        resource.extra["busy_since"] = self.timestamp()


def normalize_id(resource_id: str) -> str:
    """ARM ids compare case-insensitively and ignore a trailing slash."""
    return resource_id.rstrip("/").lower()


def new_guid() -> str:
    """A random GUID string."""
    return str(uuid.uuid4())
