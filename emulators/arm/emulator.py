"""The ARM emulator: the common HTTPS emulator base plus bearer auth, throttling, settling, ARM admin routes.

Admin routes added under `/_emulator` (besides the common reset/faults/journal/clock/seed):
    GET|POST /arm/settings        durations and limits (registrationDelaySeconds, clusterUpdateSeconds,
                                  extensionInstallSeconds, extensionDeleteSeconds, ficWriteLatencySeconds,
                                  ficLimit, principalReplicationSeconds)
    POST     /arm/throttle        {"preset": "arm"} (ARM's token buckets per principal: reads 250 / 25 per s,
                                  writes and deletes 200 / 10 per s), or {"reads": N, "writes": N,
                                  "refillPerSecond": r, "retryAfter": s}; "clock": "emulator" refills on the
                                  emulator's clock (emulators/arm/throttle.py); GET: the configuration;
                                  DELETE: off
    POST     /arm/busy            {"resourceId": id, "seconds": N}: Updating for N clock seconds
    POST     /arm/install-failures {"clusterId": id, "message"?, "logs"?, "code"?, "outcome"?}; DELETE: clear
                                  all ("outcome": "Canceled" ends the installs Canceled, not Failed)
    POST     /arm/deny            {"action", "scope", "path"? (regex, default: the scope), "method"?,
                                  "times"?, "clientId"?, "objectId"?}: a fault rule answering 403
                                  AuthorizationFailed
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from typing import Any

import trustme

from emulators.arm import api_versions, auth, errors, kube_effects
from emulators.arm.handlers.authorization import ASSIGNMENT_TYPE
from emulators.arm.key_vault import VAULT_TYPE, KeyVaultHandlers, VaultListeners
from emulators.arm.routes import ROUTES, handler_groups, resolve
from emulators.arm.seeding import load_seed
from emulators.arm.state import DEFAULT_LOCATION, ArmState, InstallFailure, KubeLinkLike
from emulators.arm.throttle import Throttle
from emulators.common.clock import Clock
from emulators.common.entra_trust import EntraTrust
from emulators.common.http import Handler, Request, Response
from emulators.common.server import AdminError, Emulator

_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)


class ArmEmulator(Emulator):
    """An HTTPS subset of Azure Resource Manager; see emulators/arm/__init__.py for what it serves."""

    name = "arm"

    def __init__(
        self, clock: Clock | None = None, kube: KubeLinkLike | None = None, ca: trustme.CA | None = None
    ) -> None:
        super().__init__(clock=clock, ca=ca)
        self.state = ArmState(self.clock, kube)
        self.state.on_extension_done = kube_effects.extension_done
        self.state.on_extension_deleted = kube_effects.extension_deleted
        self.throttle = Throttle(emulator_now=self.clock.now)
        # None: any bearer token is accepted (the documented fallback); see emulators/arm/auth.py.
        self.entra: EntraTrust | None = None
        self._vaults: VaultListeners | None = None
        # The Key Vault data plane first: its paths are not ARM's, and it answers its own auth challenge.
        for method, pattern, name, handler in KeyVaultHandlers(self.state).routes():
            self.router.add_regex(method, f"(?i:{pattern})", handler, name=name)
        groups = handler_groups(self.state)
        for method, pattern, name, target, locked in ROUTES:
            self.router.add_regex(
                method, f"(?i:{pattern})", self._wrap(resolve(groups, target), locked), name=name
            )
        self._add_arm_admin_routes()

    # ----- hooks of the common base
    def _bind(self, host: str, port: int) -> None:
        """Listen, then serve every vault (seeded now or later) on its own listener: its vaultUri."""
        super()._bind(host, port)
        self.state.role_assignments_url = f"{self.admin_url}/arm/role-assignments"
        self.state.ca_data = base64.b64encode(self.ca_pem).decode()
        self._vaults = VaultListeners(self.ca, self.handle)
        with self.state.lock:
            self.state.vault_uri = self._vaults.uri
            for vault in self.state.of_type(VAULT_TYPE):
                vault.properties["vaultUri"] = self._vaults.uri(vault.name)

    def stop(self) -> None:
        """Stop serving, vault listeners included."""
        if self._vaults is not None:
            self._vaults.stop()
        super().stop()

    def trust_entra(self, trust: EntraTrust | None) -> None:
        """Verify bearer tokens against an Entra tenant from now on (None: accept any bearer token)."""
        self.entra = trust

    def reset_state(self) -> None:
        """Forget all ARM state and turn throttling off."""
        self.state.reset()
        self.throttle.disable()

    def seed(self, data: Any) -> dict[str, Any]:
        """Load a seed document (emulators/seeds/README.md)."""
        try:
            return load_seed(self.state, data)
        except (KeyError, TypeError, ValueError) as exc:
            raise AdminError(400, f"invalid seed: {exc!r}") from exc

    def not_found(self, request: Request) -> Response:
        """Unknown paths: 401 without a token (as ARM), else ARM's InvalidResourceType."""
        return self._wrap(lambda r: _raise(errors.no_route(r.method, r.path)), True)(request)

    def method_not_allowed(self, request: Request) -> Response:
        """A known path under a method it does not serve."""
        return self._wrap(lambda r: _raise(errors.no_route(r.method, r.path)), True)(request)

    def journal_extra(self, request: Request) -> dict[str, Any]:
        """Record which bearer token called (as a fingerprint: tokens are secrets)."""
        scheme, _, token = request.header("Authorization").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return {"token": None}
        return {"token": "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:16]}

    # ----- request pipeline
    def _wrap(self, handler: Handler, locked: bool) -> Handler:
        def run(request: Request) -> Response:
            kind = self.throttle.kind_of(request.method)
            remaining = None
            try:
                auth.authenticate(request, self.entra)
                api_versions.check(request.path, request.arg("api-version"), DEFAULT_LOCATION)
                m = _SUBSCRIPTION.match(request.path)
                principal = str(self.journal_extra(request)["token"])
                allowed, remaining, retry_after = self.throttle.spend(
                    m.group(1) if m else "tenant", kind, principal
                )
                if not allowed:
                    raise errors.too_many_requests(kind, retry_after)
                self.state.settle()
                if locked:
                    with self.state.lock:
                        response = handler(request)
                else:
                    response = handler(request)
            except errors.ArmError as exc:
                response = Response.json(exc.status, exc.body(), exc.headers)
            response.headers.setdefault("x-ms-request-id", str(uuid.uuid4()))
            response.headers.setdefault(
                "x-ms-correlation-request-id", request.header("x-ms-client-request-id") or str(uuid.uuid4())
            )
            if remaining is not None:
                response.headers[f"x-ms-ratelimit-remaining-subscription-{kind}"] = str(remaining)
            return response

        return run

    # ----- admin
    def _add_arm_admin_routes(self) -> None:
        add = self.admin_router.add
        add("GET", "/arm/settings", lambda r: Response.json(200, self.state.settings.as_dict()))
        add("POST", "/arm/settings", self._admin_settings)
        add("POST", "/arm/throttle", lambda r: Response.json(200, self.throttle.configure(_body(r))))
        add("GET", "/arm/throttle", lambda r: Response.json(200, self.throttle.describe()))
        add("DELETE", "/arm/throttle", self._admin_throttle_off)
        add("POST", "/arm/busy", self._admin_busy)
        add("POST", "/arm/install-failures", self._admin_install_failure)
        add("DELETE", "/arm/install-failures", self._admin_clear_install_failures)
        add("POST", "/arm/deny", self._admin_deny)
        add("GET", "/arm/role-assignments", self._admin_role_assignments)

    def _admin_role_assignments(self, request: Request) -> Response:
        """`?principalId=`: that principal's role assignments `[{scope, roleDefinitionId}]` (the kube side of
        Azure RBAC for Kubernetes reads them)."""
        principal = (request.arg("principalId") or "").lower()
        with self.state.lock:
            found = [
                {"scope": r.properties["scope"], "roleDefinitionId": r.properties["roleDefinitionId"]}
                for r in self.state.of_type(ASSIGNMENT_TYPE)
                if str(r.properties.get("principalId", "")).lower() == principal
            ]
        return Response.json(200, {"value": found})

    def _admin_throttle_off(self, request: Request) -> Response:
        self.throttle.disable()
        return Response.empty(204)

    def _admin_clear_install_failures(self, request: Request) -> Response:
        self.state.install_failures.clear()
        return Response.empty(204)

    def _admin_settings(self, request: Request) -> Response:
        try:
            with self.state.lock:
                self.state.settings.update(_body(request))
        except KeyError as exc:
            raise AdminError(400, f"unknown setting {exc}") from exc
        return Response.json(200, self.state.settings.as_dict())

    def _admin_busy(self, request: Request) -> Response:
        body = _body(request)
        with self.state.lock:
            self.state.settle()
            resource = self.state.get(str(body.get("resourceId", "")))
            if resource is None:
                raise AdminError(404, f"no resource {body.get('resourceId')!r}")
            self.state.make_busy(
                resource, float(body.get("seconds", 60)), str(body.get("operation", "update"))
            )
            return Response.json(200, {"id": resource.id, "provisioningState": "Updating"})

    def _admin_install_failure(self, request: Request) -> Response:
        body = _body(request)
        cluster_id = str(body.get("clusterId", ""))
        if self.state.get(cluster_id) is None:
            raise AdminError(404, f"no cluster {cluster_id!r}")
        self.state.install_failures[cluster_id.lower()] = InstallFailure(
            message=str(body.get("message") or kube_effects.DEFAULT_FAILURE_MESSAGE),
            logs=str(body.get("logs") or kube_effects.DEFAULT_FAILURE_LOGS),
            code=str(body.get("code") or "ExtensionOperationFailed"),
            outcome="Canceled" if str(body.get("outcome", "")).lower() == "canceled" else "Failed",
        )
        return Response.json(201, {"clusterId": cluster_id})

    def _admin_deny(self, request: Request) -> Response:
        body = _body(request)
        action, scope = str(body["action"]), str(body["scope"])
        error = errors.authorization_failed(
            str(body.get("clientId", "00000000-0000-0000-0000-00000000c0de")),
            str(body.get("objectId", "00000000-0000-0000-0000-00000000ab1d")),
            action,
            scope,
        )
        spec: dict[str, Any] = {
            "path": body.get("path") or "(?i)^" + re.escape(scope),
            "status": 403,
            "body": error.body(),
            "headers": {"Content-Type": "application/json"},
        }
        for key in ("method", "times"):
            if body.get(key) is not None:
                spec[key] = body[key]
        return Response.json(201, self.faults.add(spec).describe())


def _raise(error: errors.ArmError) -> Response:
    raise error


def _body(request: Request) -> dict[str, Any]:
    try:
        data = request.json()
    except ValueError as exc:
        raise AdminError(400, f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise AdminError(400, "body must be a JSON object")
    return data
