"""The one place that builds clients from settings: ARM (azure-mgmt-*), Kubernetes per cluster, Table,
Service Bus, Key Vault secrets per vault.

Decisions (see activities/README.md):
- The management SDKs' automatic provider registration (on `MissingSubscriptionRegistration`) is left out of
  every ARM pipeline (`arm_pipeline`, given as the clients' public `policies=`): it blocks an activity in an
  unbounded 10 s sleep loop and hides a write. Registration is an explicit, observable step
  (activities.provider) that the orchestrator drives.
- Retries: bounded, on 408, 429 and 5xx only, honouring Retry-After; never on other 4xx (a 409 from a busy
  cluster is the orchestrator's to wait out with a durable timer). A Retry-After longer than
  `arm_max_inline_retry_after_seconds` is not slept through: the call fails as THROTTLED with retry_after.
- Clients are cached per process: one ARM client per (class, subscription), one Kubernetes client per cluster.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from azure.core.credentials import AccessToken, TokenCredential
from azure.core.pipeline import PipelineResponse, policies
from azure.core.pipeline.policies import RetryPolicy
from azure.core.rest import HttpRequest
from azure.keyvault.secrets import ApiVersion, SecretClient
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy, ARMHttpLoggingPolicy
from azure.mgmt.kubernetesconfiguration.extensions import KubernetesConfigurationExtensionsMgmtClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource.resources import ResourceManagementClient
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from activities.connection_settings import IdentityCredentialChoice, ServiceBusConnection
from activities.credentials import default_credential
from activities.failures import raise_for_arm_response
from activities.scope_guard import ScopeGuardPolicy
from activities.settings import Settings
from connector.model import ClusterRef

_LOG = logging.getLogger(__name__)

# The AKS server application: Entra-enabled clusters accept tokens for it (what kubelogin requests).
AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
AKS_SERVER_SCOPE = f"{AKS_SERVER_APP_ID}/.default"
ARM_SCOPE = "https://management.azure.com/.default"

ClientT = TypeVar("ClientT")
Sleeper = Callable[[float], None]


class StaticTokenCredential:
    """A credential that always returns one fixed token (for the local emulators only)."""

    def __init__(self, token: str, lifetime_seconds: int = 3600) -> None:
        self._token = token
        self._lifetime = lifetime_seconds

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """Return the fixed token, valid for an hour from now."""
        return AccessToken(self._token, int(time.time()) + self._lifetime)

    def __repr__(self) -> str:
        return "StaticTokenCredential(<hidden>)"


class BoundedRetryPolicy(RetryPolicy):  # type: ignore[type-arg]
    """The SDK retry policy, narrowed to 408, 429 and 5xx; waits go through an injectable sleeper."""

    def __init__(self, *, sleeper: Sleeper, max_inline_retry_after: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sleeper = sleeper
        self._max_inline_retry_after = max_inline_retry_after

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        """Retry 408/429/5xx within the budget; never other 4xx, even when they carry Retry-After."""
        status = response.http_response.status_code
        if status not in (408, 429) and status < 500:
            return False
        if not settings["total"]:
            return False
        retry_after = self.get_retry_after(response)
        if retry_after is not None and retry_after > self._max_inline_retry_after:
            return False  # too long to hold a worker: surface THROTTLED and let the orchestrator wait
        if status == 429:
            return True  # a throttled request was not processed, whatever its method
        return super().is_retry(settings, response)

    def sleep(
        self,
        settings: dict[str, Any],
        transport: Any,
        response: PipelineResponse[Any, Any] | None = None,
    ) -> None:
        """Wait Retry-After when the response gives one, else the exponential backoff, through the sleeper."""
        retry_after = self.get_retry_after(response) if response is not None else None
        wait = retry_after if retry_after else self.get_backoff_time(settings)
        if wait > 0:
            self._sleeper(wait)


def arm_pipeline(
    credential: TokenCredential,
    *,
    guard: ScopeGuardPolicy,
    retry: BoundedRetryPolicy,
    sdk_moniker: str,
) -> list[Any]:
    """The management SDKs' default pipeline with our scope guard and retry policy, and no auto-registration.

    The generated clients add ARMAutoResourceProviderRegistrationPolicy unless they are given a full
    `policies` list, so the list is built here, in the SDKs' order, from azure-core's and azure-mgmt-core's
    public policies (the public `policies=` argument; no private pipeline is edited).
    """
    return [
        guard,  # first, as a per-call policy would be: a call outside ALLOWED_SCOPES never leaves the process
        policies.RequestIdPolicy(),
        policies.HeadersPolicy(),
        policies.UserAgentPolicy(sdk_moniker=sdk_moniker),
        policies.ProxyPolicy(),
        policies.ContentDecodePolicy(),
        policies.RedirectPolicy(),
        retry,
        ARMChallengeAuthenticationPolicy(credential, ARM_SCOPE),
        policies.CustomHookPolicy(),
        policies.NetworkTraceLoggingPolicy(),
        policies.DistributedTracingPolicy(),
        policies.SensitiveHeaderCleanupPolicy(),
        ARMHttpLoggingPolicy(),
    ]


def _sdk_moniker(client_class: type) -> str:
    """`mgmt-containerservice` for azure.mgmt.containerservice's client: the User-Agent the SDK would send."""
    package = client_class.__module__.split(".")
    return f"mgmt-{package[2]}" if package[:2] == ["azure", "mgmt"] and len(package) > 2 else "mgmt"


@dataclass
class _CachedToken:
    token: AccessToken | None = None


class Clients:
    """Builds and caches every client the activities use, from one Settings object."""

    def __init__(
        self,
        settings: Settings,
        *,
        credential: TokenCredential | None = None,
        sleeper: Sleeper = time.sleep,
    ) -> None:
        self.settings = settings
        self.sleeper = sleeper
        self._credential = credential
        self._lock = threading.RLock()
        self._arm: dict[tuple[type, str], Any] = {}
        self._kube: dict[str, k8s.ApiClient] = {}
        self._table: Any = None
        self._servicebus: _ServiceBusSenders | None = None
        self._vaults: dict[str, SecretClient] = {}
        self._identity_credentials: dict[str, TokenCredential] = {}

    # ---- credential -------------------------------------------------------------------------------
    @property
    def credential(self) -> TokenCredential:
        """The Azure credential: DefaultAzureCredential (ARM_STATIC_TOKEN only as the emulators' fallback)."""
        with self._lock:
            if self._credential is None:
                if self.settings.arm_static_token:
                    self._credential = StaticTokenCredential(self.settings.arm_static_token)
                else:
                    self._credential = default_credential(os.environ)
            return self._credential

    # ---- ARM --------------------------------------------------------------------------------------
    def _arm_kwargs(self, client_class: type) -> dict[str, Any]:
        s = self.settings
        retry = BoundedRetryPolicy(
            sleeper=self.sleeper,
            max_inline_retry_after=s.arm_max_inline_retry_after_seconds,
            retry_total=s.arm_retry_total,
            retry_backoff_factor=s.arm_retry_backoff_factor,
        )
        kwargs: dict[str, Any] = {
            "polling_interval": s.arm_polling_interval_seconds,
            "policies": arm_pipeline(
                self.credential,
                guard=ScopeGuardPolicy(s.allowed_scopes),
                retry=retry,
                sdk_moniker=_sdk_moniker(client_class),
            ),
        }
        if not s.uses_public_cloud:
            kwargs["base_url"] = s.arm_endpoint
        if s.arm_ca_bundle:
            kwargs["connection_verify"] = s.arm_ca_bundle
        return kwargs

    def arm(self, client_class: type[ClientT], subscription_id: str) -> ClientT:
        """A cached management client of the given class for a subscription."""
        key = (client_class, subscription_id.lower())
        with self._lock:
            found = self._arm.get(key)
            if found is None:
                built: Any = client_class(  # type: ignore[call-arg]
                    self.credential, subscription_id, **self._arm_kwargs(client_class)
                )
                self._arm[key] = found = built
            return found  # type: ignore[no-any-return]

    def resources(self, subscription_id: str) -> ResourceManagementClient:
        """Providers and generic ARM requests."""
        return self.arm(ResourceManagementClient, subscription_id)

    def container_service(self, subscription_id: str) -> ContainerServiceClient:
        """Managed clusters."""
        return self.arm(ContainerServiceClient, subscription_id)

    def extensions(self, subscription_id: str) -> KubernetesConfigurationExtensionsMgmtClient:
        """Cluster extensions (Microsoft.KubernetesConfiguration)."""
        return self.arm(KubernetesConfigurationExtensionsMgmtClient, subscription_id)

    def msi(self, subscription_id: str) -> ManagedServiceIdentityClient:
        """User-assigned identities and their federated credentials."""
        return self.arm(ManagedServiceIdentityClient, subscription_id)

    def authorization(self, subscription_id: str) -> AuthorizationManagementClient:
        """Role assignments."""
        return self.arm(AuthorizationManagementClient, subscription_id)

    def arm_request(self, method: str, resource_path: str, api_version: str, body: Any = None) -> Any:
        """One ARM request on a resource path (target properties, list-keys actions); returns its JSON."""
        subscription = resource_path.strip("/").split("/")[1]
        request = HttpRequest(method, resource_path, params={"api-version": api_version}, json=body)
        response = self.resources(subscription).send_request(request)
        raise_for_arm_response(response, resource_path)
        return response.json() if response.content else None

    # ---- Key Vault --------------------------------------------------------------------------------
    def key_vault_secrets(self, vault_uri: str) -> SecretClient:
        """A cached secrets client for a vault's data plane (its vaultUri as ARM reports it), at 7.6.

        Off the public cloud (the emulators) the challenge's resource (vault.azure.net) cannot match the
        vault's host, so that check is off there; retries follow the ARM settings.
        """
        key = vault_uri.lower()
        with self._lock:
            found = self._vaults.get(key)
            if found is None:
                s = self.settings
                kwargs: dict[str, Any] = {
                    "api_version": ApiVersion.V7_6,
                    "retry_total": s.arm_retry_total,
                    "retry_backoff_factor": s.arm_retry_backoff_factor,
                }
                if s.arm_ca_bundle:
                    kwargs["connection_verify"] = s.arm_ca_bundle
                if not s.uses_public_cloud:
                    kwargs["verify_challenge_resource"] = False
                found = self._vaults[key] = SecretClient(vault_uri, self.credential, **kwargs)
            return found

    # ---- Kubernetes -------------------------------------------------------------------------------
    def kube(self, cluster: ClusterRef) -> k8s.ApiClient:
        """A cached Kubernetes client for a cluster, built from listClusterUserCredential."""
        key = cluster.id.lower()
        with self._lock:
            found = self._kube.get(key)
        if found is not None:
            return found
        kubeconfig = self._user_kubeconfig(cluster)
        built = kube_client_from_kubeconfig(kubeconfig, self.credential)
        with self._lock:
            return self._kube.setdefault(key, built)

    def forget_kube(self, cluster: ClusterRef) -> None:
        """Drop a cached Kubernetes client (after a 401: credentials rotated, cluster recreated)."""
        with self._lock:
            self._kube.pop(cluster.id.lower(), None)

    def _user_kubeconfig(self, cluster: ClusterRef) -> dict[str, Any]:
        result = self.container_service(
            cluster.subscription_id
        ).managed_clusters.list_cluster_user_credentials(cluster.resource_group, cluster.name)
        kubeconfigs = result.kubeconfigs or []
        if not kubeconfigs or not kubeconfigs[0].value:
            raise RuntimeError(f"listClusterUserCredential returned no kubeconfig for {cluster.id}")
        raw = kubeconfigs[0].value
        text = raw.decode("utf-8") if isinstance(raw, bytes) else base64.b64decode(raw).decode("utf-8")
        loaded = yaml.safe_load(text)
        if not isinstance(loaded, dict):
            raise RuntimeError(f"listClusterUserCredential gave an unreadable kubeconfig for {cluster.id}")
        return loaded

    # ---- storage and messaging --------------------------------------------------------------------
    def _table_kwargs(self) -> dict[str, Any]:
        timeout = self.settings.registry_timeout_seconds
        # One attempt per call, bounded by the timeout. The SDK's default (10 retries with backoff) held an
        # API request for minutes while the store was down or hung; the caller is told to retry instead
        # (503 + Retry-After), and an activity is retried by its orchestrator.
        return {"connection_timeout": timeout, "read_timeout": timeout, "retry_total": 0}

    def table(self) -> Any:
        """The registry's Table client (built, and the table created, on first use after `forget_table`)."""
        from azure.core.exceptions import ResourceExistsError
        from azure.data.tables import TableServiceClient

        with self._lock:
            if self._table is None:
                storage = self.settings.storage
                if storage.identity_based:
                    service = TableServiceClient(
                        storage.table_service_uri,
                        credential=self._identity_credential("storage", storage.identity),
                        **self._table_kwargs(),
                    )
                else:
                    service = TableServiceClient.from_connection_string(
                        storage.connection_string, **self._table_kwargs()
                    )
                with contextlib.suppress(ResourceExistsError):
                    service.create_table(self.settings.registry_table)
                self._table = service.get_table_client(self.settings.registry_table)
            return self._table

    def _identity_credential(self, purpose: str, choice: IdentityCredentialChoice) -> TokenCredential:
        """One credential per identity-based connection, kept for the process (it caches its tokens)."""
        with self._lock:
            found = self._identity_credentials.get(purpose)
            if found is None:
                found = self._identity_credentials[purpose] = choice.build()
            return found

    def forget_table(self) -> None:
        """Drop the cached Table client: the next call connects afresh and creates the table if it is gone."""
        with self._lock:
            self._table = None

    def _messaging(self) -> _ServiceBusSenders:
        with self._lock:
            if self._servicebus is None:
                connection = self.settings.servicebus
                credential = (
                    self._identity_credential("servicebus", connection.identity)
                    if connection.namespace
                    else None
                )
                self._servicebus = _ServiceBusSenders(connection, credential)
                # Closed when this Clients is collected, or when the process exits, whichever comes first.
                weakref.finalize(self, self._servicebus.close)
            return self._servicebus

    def servicebus(self) -> Any:
        """The Service Bus client of SERVICEBUS_CONNECTION(__*), built on first use, kept with its senders."""
        return self._messaging().client()

    def servicebus_sender(self, queue: str) -> contextlib.AbstractContextManager[Any]:
        """The long-lived sender of `queue`, held exclusively while the block runs (_ServiceBusSenders)."""
        return self._messaging().sender(queue)

    def close_servicebus(self) -> None:
        """Close every sender and the Service Bus client; the next use opens new ones."""
        with self._lock:
            messaging, self._servicebus = self._servicebus, None
        if messaging is not None:
            messaging.close()


class _ServiceBusSenders:
    """One Service Bus client and one long-lived sender per queue, each sender used by one thread at a time.

    Opening a sender costs an AMQP connection and closing one joins its keep-alive thread (about a second
    together), so a sender is opened once and kept. The SDK's sender is not thread-safe: a lock per queue
    serialises its users (a send takes milliseconds). A block that raises drops its sender, whose link may
    be broken: the next block opens a fresh one (a new connection). The SDK's own retries are off
    (`retry_total=0`): a broken link is retried by the caller on a fresh sender, anything else is the
    orchestrator's to retry with its durable policy rather than sleeping in an activity.
    """

    def __init__(self, connection: ServiceBusConnection, credential: TokenCredential | None = None) -> None:
        self._connection = connection
        self._credential = credential
        self._lock = threading.Lock()
        self._client: Any = None
        self._senders: dict[str, _QueueSender] = {}

    def client(self) -> Any:
        """The Service Bus client (built on first use)."""
        from azure.servicebus import ServiceBusClient

        with self._lock:
            if self._client is None:
                self._client = _servicebus_client(ServiceBusClient, self._connection, self._credential)
            return self._client

    @contextlib.contextmanager
    def sender(self, queue: str) -> Iterator[Any]:
        """The queue's sender, exclusively; dropped (closed) if the block raises."""
        with self._lock:
            slot = self._senders.setdefault(queue, _QueueSender())
        with slot.lock:
            if slot.sender is None:
                slot.sender = self.client().get_queue_sender(queue)
            try:
                yield slot.sender
            except BaseException:
                broken, slot.sender = slot.sender, None
                _close_quietly(broken)
                raise

    def close(self) -> None:
        """Close every sender, then the client."""
        with self._lock:
            slots, self._senders = list(self._senders.values()), {}
            client, self._client = self._client, None
        for slot in slots:
            with slot.lock:
                sender, slot.sender = slot.sender, None
            _close_quietly(sender)
        _close_quietly(client)


def _servicebus_client(
    client_class: Any, connection: ServiceBusConnection, credential: TokenCredential | None
) -> Any:
    """A Service Bus client (no SDK retries) from a connection string, or a namespace and a credential."""
    if not connection.namespace:
        return client_class.from_connection_string(connection.connection_string, retry_total=0)
    if credential is None:
        raise ValueError("an identity-based Service Bus connection needs a credential")
    # The local emulator speaks plain AMQP on its own port (see activities/connection_settings.py).
    emulator = {"use_tls": False} if connection.is_local_emulator else {}
    return client_class(connection.namespace, credential, retry_total=0, **emulator)


@dataclass
class _QueueSender:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sender: Any = None


def _close_quietly(handler: Any) -> None:
    """Close an SDK handler whose connection may already be gone; a failure to close changes nothing."""
    if handler is None:
        return
    try:
        handler.close()
    except Exception:  # a broken connection can fail its own close; the handler is dropped either way
        _LOG.debug("closing a Service Bus handler failed", exc_info=True)


def _is_plugin_user(user: dict[str, Any]) -> bool:
    return "exec" in user or "auth-provider" in user


def kube_client_from_kubeconfig(kubeconfig: dict[str, Any], credential: TokenCredential) -> k8s.ApiClient:
    """A Kubernetes client from a kubeconfig; exec/auth-provider users get a bearer token from the credential.

    Entra-enabled clusters return a kubeconfig that runs kubelogin. Instead of running a binary, the user is
    replaced by a token for the AKS server application from the same credential, refreshed before it expires.
    """
    config = yaml.safe_load(yaml.safe_dump(kubeconfig))  # a deep copy we may edit
    context_name = config.get("current-context")
    contexts = {c["name"]: c["context"] for c in config.get("contexts", [])}
    context: dict[str, Any] = contexts.get(context_name) or next(iter(contexts.values()), {})
    user_name = context.get("user")
    users = config.get("users", [])
    user_entry = next((u for u in users if u.get("name") == user_name), None)
    uses_entra = user_entry is not None and _is_plugin_user(user_entry.get("user") or {})
    if uses_entra and user_entry is not None:
        user_entry["user"] = {"token": "pending"}
    configuration = type.__call__(k8s.Configuration)
    k8s_config.load_kube_config_from_dict(  # type: ignore[no-untyped-call]
        config_dict=config, client_configuration=configuration, persist_config=False
    )
    if uses_entra:
        cached = _CachedToken()

        def refresh(cfg: k8s.Configuration) -> None:
            token = cached.token
            if token is None or token.expires_on - time.time() < 300:
                token = credential.get_token(AKS_SERVER_SCOPE)
                cached.token = token
            cfg.api_key["BearerToken"] = f"Bearer {token.token}"

        configuration.refresh_api_key_hook = refresh
    return k8s.ApiClient(configuration=configuration)


_current: Clients | None = None
_current_lock = threading.Lock()


def get_clients() -> Clients:
    """The process-wide Clients, built from the environment on first use."""
    global _current
    with _current_lock:
        if _current is None:
            _current = Clients(Settings.from_env())
        return _current


def use_clients(clients: Clients | None) -> None:
    """Replace the process-wide Clients (tests; None rebuilds from the environment on next use)."""
    global _current
    with _current_lock:
        _current = clients
