"""`KubeEmulator`: many clusters behind one HTTPS port, each under `/clusters/{key}` with its own token."""

from __future__ import annotations

import base64
import hmac
import re
from http import HTTPStatus
from typing import Any

import trustme

from emulators.common import AdminError, Clock, Emulator, Request, Response
from emulators.common.entra_trust import EntraTrust, TokenRejected
from emulators.common.faults import FaultRule

from . import entra, errors
from .errors import KubeError
from .handlers import KubeHandlers, status_response
from .kinds import NAMESPACE
from .routes import register_routes
from .state import Cluster, KubeStore

_CLUSTER_PATH = re.compile(r"^/clusters/([a-z0-9-]+)(/.*)?$")
_CLUSTER_KEY = re.compile(r"^[a-z0-9-]+$")
_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class KubeEmulator(Emulator):
    """The Kubernetes API emulator (see emulators.kube for the admin API)."""

    name = "kube"

    def __init__(self, clock: Clock | None = None, ca: trustme.CA | None = None) -> None:
        super().__init__(clock, ca)
        self.store = KubeStore(self.clock)
        # None: each cluster accepts its static token only (the documented fallback; emulators/kube/entra.py).
        self.entra: EntraTrust | None = None
        register_routes(self.router, KubeHandlers(self.store, self.authenticate))
        self._add_admin_routes()

    # ----- authentication -----
    def authenticate(self, request: Request) -> Cluster:
        """The cluster the request addresses, if its bearer token is that cluster's (else 401)."""
        m = _CLUSTER_PATH.match(request.path)
        cluster = self.store.clusters.get(m.group(1)) if m else None
        if cluster is None:
            raise errors.route_not_found()
        scheme, _, token = request.header("Authorization").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        settings = cluster.entra if self.entra is not None else None
        static = bool(token) and hmac.compare_digest(token.encode(), cluster.token.encode())
        if settings is None or (static and settings.get("localAccounts", True)):
            if not static:
                raise errors.unauthorized()
            return cluster
        try:
            assert self.entra is not None
            claims = self.entra.check(token, [str(settings["audience"])])
        except TokenRejected:
            raise errors.unauthorized() from None
        wanted = entra.resource_request(request.method, request.path, request.arg("watch") in ("1", "true"))
        if settings.get("azureRbac") and wanted is not None:
            entra.authorize(settings, str(claims.get("oid", "")), wanted)
        return cluster

    def trust_entra(self, trust: EntraTrust | None) -> None:
        """Verify Entra tokens on Entra-integrated clusters from now on (None: static tokens only)."""
        self.entra = trust

    def cluster_info(self, key: str, entra: dict[str, Any] | bool | None = False) -> dict[str, str]:
        """`{"server", "token", "caData"}` for a registered cluster (registering it if new)."""
        cluster = self._register(key, entra=entra)
        return {
            "server": f"{self.url}/clusters/{key}",
            "token": cluster.token,
            "caData": base64.b64encode(self.ca_pem).decode(),
        }

    def _register(
        self, key: str, token: str | None = None, entra: dict[str, Any] | bool | None = False
    ) -> Cluster:
        if not _CLUSTER_KEY.match(key):
            raise AdminError(400, f"cluster key {key!r} must match [a-z0-9-]+")
        if entra is not False and entra is not None and not isinstance(entra, dict):
            raise AdminError(400, "entra must be an object or null")
        return self.store.register(key, token, entra)

    # ----- hooks -----
    def reset_state(self) -> None:
        """Empty every cluster (registrations and tokens stay valid)."""
        self.store.reset()

    def not_found(self, request: Request) -> Response:
        """An unserved path: 401 first if the token is wrong, as the API server authenticates first."""
        try:
            self.authenticate(request)
        except KubeError as exc:
            return status_response(exc)
        return status_response(errors.route_not_found())

    def method_not_allowed(self, request: Request) -> Response:
        """A served path under a verb it lacks."""
        try:
            self.authenticate(request)
        except KubeError as exc:
            return status_response(exc)
        return status_response(errors.method_not_allowed())

    def internal_error(self, request: Request, exc: BaseException) -> Response:
        """A bug in the emulator, as a `Status`."""
        return status_response(
            KubeError(500, "InternalError", f"Internal error occurred: {type(exc).__name__}")
        )

    def fault_response(self, rule: FaultRule, request: Request) -> Response:
        """Injected faults answer a `Status` for their code unless the rule gives a body."""
        if rule.body is not None:
            return super().fault_response(rule, request)
        code = rule.status or 500
        phrase = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else "Error"
        error = KubeError(code, _REASONS.get(code, "Unknown"), f"injected fault: {phrase}", {})
        return Response.json(code, error.status(), rule.headers)

    def journal_extra(self, request: Request) -> dict[str, Any]:
        """The cluster key a request addressed."""
        m = _CLUSTER_PATH.match(request.path)
        return {"cluster": m.group(1)} if m else {}

    # ----- seeding and admin API -----
    def seed(self, data: Any) -> dict[str, Any]:
        """Load `{"clusters": [{"key", "token"?, "objects": [...], "podLogs": [{namespace, pod, container?,
        text}]}]}`; namespaces are created before the objects in them."""
        if not isinstance(data, dict) or not isinstance(data.get("clusters", []), list):
            raise AdminError(400, 'a kube seed is {"clusters": [{"key", "token", "objects", "podLogs"}]}')
        loaded: dict[str, Any] = {}
        for entry in data.get("clusters", []):
            key = str(entry.get("key", ""))
            cluster = self._register(key, entry.get("token"))
            objects = sorted(entry.get("objects") or [], key=lambda o: o.get("kind") != NAMESPACE.kind)
            for obj in objects:
                self._upsert(cluster, obj)
            for log in entry.get("podLogs") or []:
                self.store.set_log(
                    cluster, log["namespace"], log["pod"], log.get("text", ""), log.get("container", "")
                )
            loaded[key] = {"objects": len(objects)}
        return {"clusters": loaded}

    def _upsert(self, cluster: Cluster, obj: Any) -> dict[str, Any]:
        if not isinstance(obj, dict):
            raise AdminError(400, "an object is a JSON object")
        try:
            return self.store.upsert(cluster, obj)
        except KubeError as exc:
            raise AdminError(exc.code, exc.message) from exc

    def _admin_cluster(self, request: Request) -> Cluster:
        cluster = self.store.clusters.get(request.params["key"])
        if cluster is None:
            raise AdminError(404, f"cluster {request.params['key']!r} is not registered")
        return cluster

    def _add_admin_routes(self) -> None:
        add = self.admin_router.add
        add("POST", "/clusters", self._admin_register)
        add(
            "POST",
            "/clusters/{key}/objects",
            lambda r: Response.json(200, self._upsert(self._admin_cluster(r), r.json())),
        )
        add("POST", "/clusters/{key}/objects/delete", self._admin_delete)
        add("PUT", "/clusters/{key}/pods/{namespace}/{name}/log", self._admin_set_log)

    def _admin_register(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("key"), str):
            raise AdminError(400, 'body must be {"key": "<cluster key>"}')
        return Response.json(200, self.cluster_info(body["key"], body.get("entra", False)))

    def _admin_delete(self, request: Request) -> Response:
        from .kinds import kind_of

        cluster = self._admin_cluster(request)
        body = request.json() or {}
        kind = kind_of(str(body.get("apiVersion")), str(body.get("kind")))
        if kind is None:
            raise AdminError(400, f"kind {body.get('apiVersion')}/{body.get('kind')} is not served")
        try:
            gone = self.store.delete(cluster, kind, str(body.get("namespace") or ""), str(body.get("name")))
        except KubeError as exc:
            raise AdminError(exc.code, exc.message) from exc
        return Response.json(200, gone)

    def _admin_set_log(self, request: Request) -> Response:
        cluster = self._admin_cluster(request)
        self.store.set_log(
            cluster,
            request.params["namespace"],
            request.params["name"],
            request.body.decode("utf-8"),
            request.arg("container") or "",
        )
        return Response.empty(204)
