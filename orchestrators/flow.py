"""Building blocks shared by the orchestrators: progress, activity calls retried by category, durable waits.

Every helper here is a generator meant for `yield from` inside an orchestrator; it only calls `context.*`.
A call that cannot succeed raises `OrchestrationFailure` carrying the classified `ConnectorError`.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.boundary import Activity
from connector.errors import (
    Category,
    ConnectorError,
    extension_failed,
    make_error,
    parse_failure_text,
    redact,
    timed_out,
)
from connector.ids import subscription_of
from connector.model import Connection, WorkloadIdentityAuth
from connector.vocabulary import KUBERNETES_CONFIGURATION
from orchestrators.policy import Next, Policy, decide, poll_delay, retries_exhausted
from telemetry import activity_retried

# Service Connector's own wording for an extension that never became ready; users search for it.
READY_TIMEOUT_MESSAGE = "Timed out waiting for the resource to come to a ready/completed state"
# The custom status lists the steps already done so a watcher can show them; only the latest few are kept so
# the status stays small whatever the number of steps (a reconcile runs many).
COMPLETED_STEPS_KEPT = 12

Steps = Generator[Any, Any, Any]


class OrchestrationFailure(Exception):
    """A step failed for good; `.error` is what the output and the registry record."""

    def __init__(self, error: ConnectorError) -> None:
        super().__init__(f"{error.code}: {error.message}")
        self.error = error


def failure_of(exc: BaseException) -> ConnectorError:
    """The classified error inside an activity failure (Durable hands the orchestrator text only)."""
    if isinstance(exc, OrchestrationFailure):
        return exc.error
    text = str(exc)
    found = parse_failure_text(text)
    if found is not None:
        return found
    first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return make_error(Category.TRANSIENT, "UnexpectedError", redact(first_line)[:500])


def _iso(when: datetime) -> str:
    """An orchestration time as ISO 8601 UTC with a Z, as ARM writes times."""
    utc = when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when
    return utc.isoformat(timespec="milliseconds") + "Z"


def _is(value: Any, state: str) -> bool:
    return str(value or "").lower() == state.lower()


class Flow:
    """One orchestration's helpers: custom status, retried calls and waits against one cluster."""

    def __init__(self, context: Any, policy: Policy, cluster_id: str = "") -> None:
        self.context = context
        self.policy = policy
        self.cluster_id = cluster_id
        self.step = "start"
        # The step being published and when it started; the steps before it, with their times (custom status).
        self._published: tuple[str, str, int] | None = None  # step, startedAt, highest attempt
        self._completed: list[dict[str, Any]] = []
        # The linker record's `granted` (role assignments, federated credentials) as last recorded: a failed
        # operation lists it in its diagnostics.
        self.granted: dict[str, Any] | None = None

    @property
    def cluster_name(self) -> str:
        """The cluster's name (the last segment of its id), for progress and messages."""
        return self.cluster_id.rstrip("/").rsplit("/", 1)[-1]

    # ---- progress ---------------------------------------------------------------------------------------
    def status(
        self, step: str, attempt: int = 0, detail: str = "", *, wait_seconds: float | None = None
    ) -> None:
        """Publish the custom status (ids and names only): step, attempt, detail, startedAt, the steps done
        with their times, and nextCheckAt when the step now waits `wait_seconds` before checking again."""
        self.step = step
        now = self.context.current_utc_datetime
        stamp = _iso(now)
        if self._published is None or self._published[0] != step:
            if self._published is not None:
                name, started, attempts = self._published
                done = {"step": name, "startedAt": started, "endedAt": stamp, "attempts": attempts + 1}
                self._completed = [*self._completed, done][-COMPLETED_STEPS_KEPT:]
            self._published = (step, stamp, attempt)
        else:
            self._published = (step, self._published[1], max(attempt, self._published[2]))
        status: dict[str, Any] = {
            "step": step,
            "attempt": attempt,
            "detail": detail,
            "startedAt": self._published[1],
            "steps": list(self._completed),
        }
        if wait_seconds is not None:
            status["nextCheckAt"] = _iso(now + timedelta(seconds=wait_seconds))
        self.context.set_custom_status(status)

    def now_seconds(self) -> float:
        """The orchestration's deterministic current time, as epoch seconds."""
        return float(self.context.current_utc_datetime.timestamp())

    def sleep(self, seconds: float) -> Steps:
        """A durable timer of `seconds`."""
        fire_at = self.context.current_utc_datetime + timedelta(seconds=seconds)
        yield self.context.create_timer(fire_at)

    # ---- calls --------------------------------------------------------------------------------------------
    def call(
        self,
        name: str,
        payload: Mapping[str, Any],
        *,
        handle_busy: bool = True,
        register_provider: bool = True,
    ) -> Steps:
        """Call an activity; transient failures are retried with backoff, a busy cluster is waited out, an
        unregistered provider is registered; anything else raises OrchestrationFailure at once.

        `register_provider=False` fails instead of registering: for operations that must write nothing.
        Retries end at the policy's deadline in time (`transient_retry_deadline_seconds`), not after a number
        of tries; the error then says how long the call retried."""
        attempt = 0
        first_failure: float | None = None
        waited_out = 0.0  # time spent waiting for the cluster or the provider: their own budgets bound it
        while True:
            try:
                return (yield self.context.call_activity(name, payload))
            except Exception as exc:
                error = failure_of(exc)
            now = self.now_seconds()
            first_failure = now if first_failure is None else first_failure
            retrying = now - first_failure - waited_out
            decision = decide(self.policy, error, attempt, retrying)
            step = self.step
            if decision.next is Next.RETRY:
                throttled = error.category is Category.THROTTLED
                activity_retried(self.context, name, error.code, throttled=throttled, attempt=attempt + 1)
                self.status(
                    step,
                    attempt + 1,
                    f"{name} failed with {error.code}; retrying",
                    wait_seconds=decision.delay,
                )
                yield from self.sleep(decision.delay)
            elif decision.next is Next.WAIT_FOR_CLUSTER and handle_busy and self.cluster_id:
                started = self.now_seconds()
                yield from self.wait_for_cluster()
                waited_out += self.now_seconds() - started
                # A write refused as busy while the cluster reads Succeeded must not spin: back off first.
                yield from self.sleep(decision.delay)
            elif decision.next is Next.REGISTER_PROVIDER and register_provider:
                started = self.now_seconds()
                # The provider ARM named (a step may need another than KubernetesConfiguration).
                yield from self.ensure_provider(
                    subscription_of(self.cluster_id, default="") or str(payload.get("subscriptionId", "")),
                    error.provider or KUBERNETES_CONFIGURATION,
                )
                waited_out += self.now_seconds() - started
                yield from self.sleep(decision.delay)
            else:
                if decision.next is Next.FAIL:
                    error = retries_exhausted(self.policy, error, retrying, attempt + 1)
                raise OrchestrationFailure(error)
            self.step = step
            attempt += 1

    def resolve_identity(self, connection: Connection, auth: WorkloadIdentityAuth) -> Steps:
        """The connection's identity {"id", "principalId"}, found in its subscription (else the cluster's)."""
        return (
            yield from self.call(
                Activity.RESOLVE_IDENTITY,
                {
                    "clientId": auth.client_id,
                    "subscriptionId": auth.subscription_id or connection.cluster.subscription_id,
                    "identityResourceId": auth.identity_resource_id,
                },
            )
        )

    def enable_cluster_features(self, *, key_vault_addon: bool, workload_identity: bool) -> Steps:
        """One cluster update for the features asked; the cluster's summary (waited out if it changed)."""
        payload = {
            "clusterId": self.cluster_id,
            "keyVaultAddon": key_vault_addon,
            "workloadIdentity": workload_identity,
        }
        result = yield from self.call(Activity.ENABLE_CLUSTER_FEATURES, payload)
        if result.get("changed"):
            return (yield from self.wait_for_cluster())
        return result

    # ---- waits --------------------------------------------------------------------------------------------
    def wait_for_cluster(self) -> Steps:
        """Poll the cluster with growing waits until its provisioningState is Succeeded; its summary."""
        deadline = self.now_seconds() + self.policy.cluster_ready_timeout_seconds
        attempt = 0
        name = self.cluster_name
        while True:
            cluster = yield from self.call(
                Activity.READ_CLUSTER, {"clusterId": self.cluster_id}, handle_busy=False
            )
            state = cluster.get("provisioningState")
            if _is(state, "Succeeded"):
                return cluster
            if _is(state, "Failed"):
                raise OrchestrationFailure(
                    make_error(
                        Category.CONFLICT,
                        "ClusterProvisioningFailed",
                        f"The cluster {name} is in provisioningState Failed; reconcile it "
                        "(`az aks update -g <group> -n <cluster>`) and send the request again.",
                        resource=self.cluster_id,
                    )
                )
            remaining = deadline - self.now_seconds()
            if remaining <= 0:
                raise OrchestrationFailure(
                    timed_out(
                        f"the cluster {name} to reach provisioningState Succeeded (it is {state})",
                        self.policy.cluster_ready_timeout_seconds,
                        resource=self.cluster_id,
                    )
                )
            delay = poll_delay(self.policy, attempt, remaining)
            self.status("waitForCluster", attempt, f"cluster {name} is {state}", wait_seconds=delay)
            yield from self.sleep(delay)
            attempt += 1

    def ensure_provider(self, subscription_id: str, namespace: str = KUBERNETES_CONFIGURATION) -> Steps:
        """Register the provider (no write when Registered or Registering); wait until Registered."""
        step = self.step
        self.status("registerProvider", 0, f"{namespace} in subscription {subscription_id}")
        payload = {"subscriptionId": subscription_id, "namespace": namespace}
        found = yield from self.call(Activity.REGISTER_PROVIDER, payload)
        deadline = self.now_seconds() + self.policy.provider_ready_timeout_seconds
        attempt = 0
        while not _is(found.get("registrationState"), "Registered"):
            remaining = deadline - self.now_seconds()
            if remaining <= 0:
                raise OrchestrationFailure(
                    timed_out(
                        f"the resource provider {namespace} to be Registered "
                        f"(it is {found.get('registrationState')})",
                        self.policy.provider_ready_timeout_seconds,
                        resource=f"/subscriptions/{subscription_id}/providers/{namespace}",
                    )
                )
            delay = poll_delay(self.policy, attempt, remaining)
            state = found.get("registrationState")
            self.status("waitForProvider", attempt, f"{namespace} is {state}", wait_seconds=delay)
            yield from self.sleep(delay)
            found = yield from self.call(Activity.READ_PROVIDER, payload)
            attempt += 1
        self.step = step

    def wait_for_extension(self) -> Steps:
        """Poll sc-extension until Succeeded; when it fails or the budget runs out, fail with diagnostics."""
        deadline = self.now_seconds() + self.policy.extension_ready_timeout_seconds
        attempt = 0
        while True:
            extension = yield from self.call(Activity.READ_EXTENSION, {"clusterId": self.cluster_id})
            state = extension.get("provisioningState") if extension.get("present") else "NotInstalled"
            if _is(state, "Succeeded"):
                return extension
            if _is(state, "Failed") or _is(state, "Canceled"):
                reasons = "; ".join(
                    str(s.get("message")) for s in extension.get("statuses") or [] if s.get("message")
                )
                error = extension_failed(
                    f"{READY_TIMEOUT_MESSAGE}: the extension sc-extension is {state}"
                    + (f" ({reasons})." if reasons else "."),
                    resource=self.cluster_id,
                )
                raise OrchestrationFailure((yield from self.with_diagnostics(error)))
            remaining = deadline - self.now_seconds()
            if remaining <= 0:
                error = make_error(
                    Category.TIMED_OUT,
                    "OperationTimedOut",
                    f"{READY_TIMEOUT_MESSAGE}: the extension sc-extension is still {state} after "
                    f"{self.policy.extension_ready_timeout_seconds:g} s.",
                    resource=self.cluster_id,
                )
                raise OrchestrationFailure((yield from self.with_diagnostics(error)))
            delay = poll_delay(self.policy, attempt, remaining)
            self.status("waitForExtension", attempt, f"sc-extension is {state}", wait_seconds=delay)
            yield from self.sleep(delay)
            attempt += 1

    def wait_for_extension_removed(self) -> Steps:
        """Poll until sc-extension is gone (after a delete), within the extension budget."""
        deadline = self.now_seconds() + self.policy.extension_ready_timeout_seconds
        attempt = 0
        while True:
            extension = yield from self.call(Activity.READ_EXTENSION, {"clusterId": self.cluster_id})
            if not extension.get("present"):
                return
            remaining = deadline - self.now_seconds()
            if remaining <= 0:
                error = timed_out(
                    "the extension sc-extension to be deleted",
                    self.policy.extension_ready_timeout_seconds,
                    resource=self.cluster_id,
                )
                raise OrchestrationFailure((yield from self.with_diagnostics(error)))
            delay = poll_delay(self.policy, attempt, remaining)
            detail = f"sc-extension is {extension.get('provisioningState')}"
            self.status("waitForExtensionRemoval", attempt, detail, wait_seconds=delay)
            yield from self.sleep(delay)
            attempt += 1

    def with_diagnostics(self, error: ConnectorError) -> Steps:
        """The error with the cluster's diagnostics attached (what could not be read is named instead)."""
        self.status("collectDiagnostics", 0, self.cluster_name)
        try:
            report = yield self.context.call_activity(
                Activity.COLLECT_DIAGNOSTICS, {"clusterId": self.cluster_id}
            )
        except Exception as exc:
            problem = failure_of(exc)
            report = {
                "clusterId": self.cluster_id,
                "unavailable": {"all": f"{problem.code}: {problem.message}"},
            }
        return error.with_diagnostics(report or {})
