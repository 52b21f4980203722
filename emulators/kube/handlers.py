"""HTTP handlers: parse a Kubernetes API request, call the store, and answer JSON (or a `Status` on error)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from emulators.common import Request, Response

from . import discovery, errors
from .errors import KubeError, bad_request
from .kinds import Kind
from .state import APPLY, JSON_PATCH, MERGE, STRATEGIC, Cluster, KubeStore

PATCH_TYPES = (JSON_PATCH, MERGE, STRATEGIC, APPLY)
Authenticate = Callable[[Request], Cluster]


def status_response(error: KubeError) -> Response:
    """A `Status` error body with the HTTP code equal to `code`."""
    return Response.json(error.code, error.status())


def _media_type(request: Request) -> str:
    return request.header("Content-Type").split(";")[0].strip().lower()


def _body(request: Request) -> Any:
    """JSON (or YAML) body; the Python client sends JSON without a Content-Type on POST and PUT."""
    try:
        if _media_type(request) in ("application/yaml", APPLY):
            return yaml.safe_load(request.body.decode() or "null")
        return request.json()
    except yaml.YAMLError as exc:
        raise bad_request(f"error converting YAML to JSON: {_yaml_problem(exc)}") from None
    except ValueError as exc:
        raise bad_request(f"couldn't get version/kind; json parse error: {exc}") from exc


def _yaml_problem(exc: yaml.YAMLError) -> str:
    # PyYAML's own message quotes the offending line, which may hold a secret value; the API server's names
    # only the line and the problem.
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        return f"yaml: line {exc.problem_mark.line + 1}: {exc.problem}"
    return "yaml: the document is malformed"


def _manager(request: Request) -> str:
    """`fieldManager`, else the User-Agent's product (as the API server defaults it)."""
    explicit = request.arg("fieldManager")
    if explicit:
        return explicit
    return request.header("User-Agent").split("/")[0] or "unknown"


def _refuse_unsupported(request: Request) -> None:
    if request.arg("dryRun") is not None:
        raise bad_request("dryRun is not supported by this emulator")


def _int_arg(request: Request, name: str) -> int | None:
    raw = request.arg(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise bad_request(f'{name}: Invalid value: "{raw}": must be an integer') from exc


class KubeHandlers:
    """One handler per verb; each takes the kind it serves plus the request."""

    def __init__(self, store: KubeStore, authenticate: Authenticate) -> None:
        self.store = store
        self.authenticate = authenticate

    def guarded(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        """Turn `KubeError`s into `Status` responses."""

        def run(request: Request) -> Response:
            try:
                return handler(request)
            except KubeError as exc:
                return status_response(exc)

        return run

    def list(self, kind: Kind, request: Request) -> Response:
        """GET collection (namespaced, or across namespaces when the path has none)."""
        cluster = self.authenticate(request)
        if request.arg("watch") in ("true", "1"):
            raise bad_request("watch is not supported by this emulator")
        body = self.store.list(
            cluster,
            kind,
            request.params.get("namespace"),
            request.arg("labelSelector"),
            request.arg("fieldSelector"),
            _int_arg(request, "limit"),
            request.arg("continue"),
        )
        return Response.json(200, body)

    def create(self, kind: Kind, request: Request) -> Response:
        """POST collection."""
        cluster = self.authenticate(request)
        _refuse_unsupported(request)
        obj = self.store.create(
            cluster, kind, request.params.get("namespace", ""), _body(request), _manager(request)
        )
        return Response.json(201, obj)

    def get(self, kind: Kind, request: Request) -> Response:
        """GET one object (or its status subresource)."""
        cluster = self.authenticate(request)
        return Response.json(
            200, self.store.get(cluster, kind, request.params.get("namespace", ""), request.params["name"])
        )

    def replace(self, kind: Kind, request: Request) -> Response:
        """PUT one object."""
        cluster = self.authenticate(request)
        _refuse_unsupported(request)
        obj = self.store.replace(
            cluster,
            kind,
            request.params.get("namespace", ""),
            request.params["name"],
            _body(request),
            _manager(request),
        )
        return Response.json(200, obj)

    def patch(self, kind: Kind, request: Request) -> Response:
        """PATCH one object: JSON patch, merge, strategic merge or server-side apply."""
        cluster = self.authenticate(request)
        _refuse_unsupported(request)
        media_type = _media_type(request)
        if media_type not in PATCH_TYPES:
            raise errors.unsupported_media_type(list(PATCH_TYPES))
        force = request.arg("force") in ("true", "1")
        manager = request.arg("fieldManager") if media_type == APPLY else _manager(request)
        obj, created = self.store.patch(
            cluster,
            kind,
            request.params.get("namespace", ""),
            request.params["name"],
            media_type,
            _body(request),
            manager,
            force,
        )
        return Response.json(201 if created else 200, obj)

    def delete(self, kind: Kind, request: Request) -> Response:
        """DELETE one object; the body may carry `DeleteOptions` with preconditions."""
        cluster = self.authenticate(request)
        _refuse_unsupported(request)
        options = _body(request) or {}
        preconditions = options.get("preconditions") if isinstance(options, dict) else None
        body = self.store.delete(
            cluster, kind, request.params.get("namespace", ""), request.params["name"], preconditions
        )
        return Response.json(200, body)

    def pod_log(self, request: Request) -> Response:
        """GET …/pods/{name}/log as text/plain, honouring `container` and `tailLines`."""
        cluster = self.authenticate(request)
        text = self.store.read_log(
            cluster,
            request.params["namespace"],
            request.params["name"],
            request.arg("container"),
            _int_arg(request, "tailLines"),
        )
        return Response.text(200, text)

    def version(self, request: Request) -> Response:
        """GET /version."""
        self.authenticate(request)
        return Response.json(200, VERSION)

    def core_versions(self, request: Request) -> Response:
        """GET /api (discovery)."""
        self.authenticate(request)
        return Response.json(200, discovery.core_versions(request.header("Host")))

    def api_groups(self, request: Request) -> Response:
        """GET /apis (discovery)."""
        self.authenticate(request)
        return Response.json(200, discovery.api_groups())

    def api_group(self, request: Request) -> Response:
        """GET /apis/{group} (discovery)."""
        self.authenticate(request)
        return _found(discovery.api_group(request.params["group"]))

    def resource_list(self, request: Request) -> Response:
        """GET /api/v1 or /apis/{group}/{version} (discovery)."""
        self.authenticate(request)
        return _found(discovery.resource_list(request.params.get("group", ""), request.params["version"]))


def _found(document: dict[str, Any] | None) -> Response:
    if document is None:
        raise errors.route_not_found()
    return Response.json(200, document)


VERSION = {
    "major": "1",
    "minor": "33",
    "gitVersion": "v1.33.0-emulator",
    "gitCommit": "",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.24",
    "compiler": "gc",
    "platform": "linux/amd64",
}
