"""The ServiceLinker-compatible HTTP API for managedCluster sources (ARM-shaped paths, routePrefix "").

Linkers: PUT (201 + Azure-AsyncOperation), GET, list (paged with nextLink), PATCH (201 + async operation),
DELETE (202 + Azure-AsyncOperation + Location; 204 when absent), POST validateLinker (202 + async operation),
POST listConfigurations (200), and GET on the operation status URL. Per cluster: diagnostics (GET) and
resetExtension (POST). On demand: POST api/reconcile. Every request for a cluster outside ALLOWED_SCOPES gets
403 AuthorizationFailed before anything is read or written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from activities.diagnostics import collect_diagnostics
from connector.bounded_json import loads_bounded, size_error
from connector.errors import ConnectorFailure
from connector.ids import parse_cluster_id
from connector.model import ClusterRef, Connection
from connector.validation import (
    INVALID_FIELD_VALUE,
    INVALID_SOURCE_RESOURCE_ID,
    Problem,
    RequestValidationError,
    cluster_name_problems,
    is_guid,
    linker_name_problems,
    resource_group_problems,
    subscription_problems,
)
from connector.wire import linker_id_of, parse_linker, parse_patch, to_linker_body
from telemetry import log as log_record
from telemetry import traced_http
from triggers import arm_format as arm
from triggers import operations as ops
from triggers.blueprint import bp
from triggers.configurations import list_configurations
from triggers.openapi import openapi_document
from triggers.schedule import start_singleton
from triggers.settings import TriggerSettings

_LOG = logging.getLogger(__name__)

CLUSTER_ROUTE = (
    "subscriptions/{subscription}/resourceGroups/{resource_group}"
    "/providers/Microsoft.ContainerService/managedClusters/{cluster}/providers/Microsoft.ServiceLinker"
)
LINKERS_ROUTE = CLUSTER_ROUTE + "/linkers"
LINKER_ROUTE = LINKERS_ROUTE + "/{name}"
OPERATION_ROUTE = (
    "subscriptions/{subscription}/providers/Microsoft.ServiceLinker/locations/{location}"
    "/operationStatuses/{operation}"
)
MAX_SKIP_TOKEN_DIGITS = 9  # nextLink's tokens are list offsets; a longer one is not ours


def _body(req: func.HttpRequest) -> Any:
    raw = req.get_body()
    if not raw:
        return {}
    return loads_bounded(raw)


def _invalid(problems: list[Problem]) -> func.HttpResponse:
    return arm.json_response(400, RequestValidationError.from_problems(problems).to_arm_body())


def _content_error(req: func.HttpRequest) -> func.HttpResponse | None:
    """415 for a body that is not JSON, 400 for one over the size limit: decided before it is parsed."""
    raw = req.get_body()
    if not raw:
        return None
    content_type = req.headers.get("content-type")
    # No Content-Type at all is read as JSON (curl -d without -H); a declared other type is refused.
    if content_type is not None and not arm.is_json_media_type(content_type):
        return arm.unsupported_media_type(content_type)
    too_big = size_error(len(raw))
    return None if too_big is None else arm.json_response(400, too_big.to_arm_body())


def _cluster(req: func.HttpRequest) -> ClusterRef | func.HttpResponse:
    """The route's cluster, or the 400 naming each of its segments that breaks ARM's or AKS's rules."""
    params = req.route_params
    problems = [
        *subscription_problems(params["subscription"]),
        *resource_group_problems(params["resource_group"]),
        *cluster_name_problems(params["cluster"]),
    ]
    if problems:
        return _invalid(problems)
    cluster = parse_cluster_id(
        f"/subscriptions/{params['subscription']}/resourceGroups/{params['resource_group']}"
        f"/providers/Microsoft.ContainerService/managedClusters/{params['cluster']}"
    )
    if cluster is None:
        return _invalid([Problem(INVALID_SOURCE_RESOURCE_ID, "The source is not an AKS cluster id.", "id")])
    return cluster


def _guard(req: func.HttpRequest, action: str) -> tuple[ClusterRef, TriggerSettings, str] | func.HttpResponse:
    """api-version, route ids and names, body type and size, ALLOWED_SCOPES: checked before any work."""
    api_version = req.params.get("api-version") or ""
    refused = arm.api_version_error(api_version)
    if refused is None:
        refused = _content_error(req)
    if refused is not None:
        return refused
    cluster = _cluster(req)
    if isinstance(cluster, func.HttpResponse):
        return cluster
    settings = TriggerSettings.from_env()
    if not settings.allows(cluster.id):
        return arm.forbidden(action, cluster.id)
    return cluster, settings, api_version


def _linker_name_error(name: str) -> func.HttpResponse | None:
    problems = linker_name_problems(name)
    return _invalid(problems) if problems else None


def _accepted_headers(
    req: func.HttpRequest,
    cluster: ClusterRef,
    operation_id: str,
    settings: TriggerSettings,
    *,
    location: bool,
) -> dict[str, str]:
    api_version = req.params.get("api-version")  # validated by _guard: one the API serves
    url = arm.operation_url(settings.public_base_url, cluster.subscription_id, operation_id, api_version)
    headers = {"Azure-AsyncOperation": url}
    if location:
        headers["Location"] = url
    return headers


def _linker_body(record: dict[str, Any], api_version: str) -> dict[str, Any]:
    connection = Connection.from_stored(record["desired"]).with_provisioning_state(
        record.get("provisioningState")
    )
    body = to_linker_body(connection, api_version)
    # Why an operation failed is in its status (`error`) and in GET .../diagnostics: the linker schema has no
    # place for it, and every linker answer is judged against that schema.
    body["systemData"] = record.get("systemData")
    return body


REGISTRY_UNAVAILABLE = "RegistryUnavailable"
REGISTRY_RETRY_AFTER_SECONDS = 5


def _failure_response(failure: ConnectorFailure) -> func.HttpResponse:
    # The registry could not be reached or refused: a transient server-side problem for the caller.
    log_record(logging.WARNING, "registry failure", error_code=failure.error.code)
    if not failure.error.retryable:
        return arm.json_response(500, failure.error.to_arm_error())
    # One stable code, and no SDK text (it names the store's address): the caller only needs to retry.
    retry_after = max(REGISTRY_RETRY_AFTER_SECONDS, int(failure.error.retry_after or 0))
    message = (
        "The connection registry (Table Storage) is unreachable or did not answer in time; "
        f"retry after {retry_after} seconds."
    )
    body: dict[str, Any] = {
        "error": {"code": REGISTRY_UNAVAILABLE, "message": message, "target": None, "details": []}
    }
    return arm.json_response(503, body, {"Retry-After": str(retry_after)})


async def _handle(coro: Any) -> func.HttpResponse:
    """Turn the expected refusals into ARM responses."""
    try:
        response: func.HttpResponse = await coro
        return response
    except RequestValidationError as invalid:
        return arm.json_response(400, invalid.to_arm_body())
    except ops.OperationConflict as conflict:
        return arm.error_response(409, arm.ANOTHER_OPERATION_IN_PROGRESS, str(conflict))
    except ops.SealingKeyMissing as missing:
        return arm.error_response(500, "SealingKeyMissing", str(missing))
    except ConnectorFailure as failure:
        return _failure_response(failure)


# --- Linkers ---------------------------------------------------------------------------------------------


@bp.route(route=LINKER_ROUTE, methods=["GET", "PUT", "PATCH", "DELETE"])
@bp.durable_client_input(client_name="client")
@traced_http(LINKER_ROUTE)
async def linker(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """GET, PUT, PATCH or DELETE one linker."""
    method = req.method.upper()
    verb = {"GET": "read", "DELETE": "delete"}.get(method, "write")
    guarded = _guard(req, f"Microsoft.ServiceLinker/linkers/{verb}")
    if isinstance(guarded, func.HttpResponse):
        return guarded
    cluster, settings, api_version = guarded
    name = req.route_params["name"]
    linker_id = linker_id_of(cluster, name)
    if method == "GET":
        return await _handle(_get(client, linker_id, name, api_version))
    if method == "DELETE":
        return await _handle(_delete(req, client, cluster, linker_id, name, settings))
    return await _handle(_put_or_patch(req, client, cluster, linker_id, settings, api_version))


async def _get(
    client: df.DurableOrchestrationClient, linker_id: str, name: str, api_version: str
) -> func.HttpResponse:
    if linker_name_problems(name):
        return arm.not_found(linker_id)
    record = await ops.settle_abandoned(client, await ops.get_record(linker_id))
    if record is None or not record.get("desired"):
        return arm.not_found(linker_id)
    return arm.json_response(200, _linker_body(record, api_version))


async def _put_or_patch(
    req: func.HttpRequest,
    client: df.DurableOrchestrationClient,
    cluster: ClusterRef,
    linker_id: str,
    settings: TriggerSettings,
    api_version: str,
) -> func.HttpResponse:
    body = _body(req)
    if linker_name_problems(req.route_params["name"]):
        parse_linker(linker_id, body, api_version)  # raises with every naming problem
    record = await ops.get_record(linker_id)
    existing = ops.stored_connection(record)
    if req.method.upper() == "PATCH":
        if existing is None:
            return arm.not_found(linker_id)
        connection = parse_patch(existing, body, api_version)
    else:
        connection = parse_linker(linker_id, body, api_version, existing=existing)
    violation = settings.scope_violation(connection)
    if violation is not None:  # refused before anything is read from or written to Azure or a cluster
        message = violation.message("Microsoft.ServiceLinker/linkers/write")
        return arm.error_response(403, arm.AUTHORIZATION_FAILED, message, violation.field)
    started = await ops.submit_connect(client, connection, settings, record=record)
    # The body never renders secret values, sealed or not.
    accepted = connection.with_provisioning_state(ops.ACCEPTED)
    headers = _accepted_headers(req, cluster, started.operation_id, settings, location=False)
    body = to_linker_body(accepted, api_version)
    body["systemData"] = started.system_data
    return arm.json_response(201, body, headers)


async def _delete(
    req: func.HttpRequest,
    client: df.DurableOrchestrationClient,
    cluster: ClusterRef,
    linker_id: str,
    name: str,
    settings: TriggerSettings,
) -> func.HttpResponse:
    if linker_name_problems(name):
        return func.HttpResponse(status_code=204)
    record = await ops.get_record(linker_id)
    if record is None:
        return func.HttpResponse(status_code=204)
    started = await ops.submit_disconnect(client, record, settings)
    return func.HttpResponse(
        status_code=202,
        headers=_accepted_headers(req, cluster, started.operation_id, settings, location=True),
    )


@bp.route(route=LINKERS_ROUTE, methods=["GET"])
@bp.durable_client_input(client_name="client")
@traced_http(LINKERS_ROUTE)
async def linkers(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """List a cluster's linkers, one page at a time (nextLink carries $skipToken)."""
    guarded = _guard(req, "Microsoft.ServiceLinker/linkers/read")
    if isinstance(guarded, func.HttpResponse):
        return guarded
    cluster, settings, api_version = guarded
    raw_skip = req.params.get("$skipToken", "0")
    if not (raw_skip.isascii() and raw_skip.isdigit() and len(raw_skip) <= MAX_SKIP_TOKEN_DIGITS):
        return arm.error_response(
            400, INVALID_FIELD_VALUE, "$skipToken must be the token of a nextLink.", "$skipToken"
        )
    return await _handle(_list(client, cluster, api_version, int(raw_skip), settings))


async def _list(
    client: df.DurableOrchestrationClient,
    cluster: ClusterRef,
    api_version: str,
    skip: int,
    settings: TriggerSettings,
) -> func.HttpResponse:
    records = [r for r in await ops.list_records(cluster.id) if r.get("desired")]
    size = settings.list_page_size
    page = [await ops.settle_abandoned(client, r) or r for r in records[skip : skip + size]]
    body: dict[str, Any] = {"value": [_linker_body(r, api_version) for r in page]}
    if skip + size < len(records):
        path = f"{settings.public_base_url}{cluster.id}/providers/Microsoft.ServiceLinker/linkers"
        body["nextLink"] = f"{path}?api-version={api_version}&$skipToken={skip + size}"
    else:
        body["nextLink"] = None
    return arm.json_response(200, body)


@bp.route(route=LINKER_ROUTE + "/validateLinker", methods=["POST"])
@bp.durable_client_input(client_name="client")
@traced_http(LINKER_ROUTE + "/validateLinker")
async def validate_linker(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Start a validation of the linker on the cluster (202; the operation's result holds the checks)."""
    guarded = _guard(req, "Microsoft.ServiceLinker/linkers/validateLinker/action")
    if isinstance(guarded, func.HttpResponse):
        return guarded
    cluster, settings, _api_version = guarded
    bad_name = _linker_name_error(req.route_params["name"])
    if bad_name is not None:
        return bad_name
    linker_id = linker_id_of(cluster, req.route_params["name"])

    async def run() -> func.HttpResponse:
        record = await ops.get_record(linker_id)
        if record is None or not record.get("desired"):
            return arm.not_found(linker_id)
        operation_id = await ops.start_plain(client, ops.VALIDATE, {"linkerId": linker_id}, settings)
        headers = _accepted_headers(req, cluster, operation_id, settings, location=True)
        return func.HttpResponse(status_code=202, headers=headers)

    return await _handle(run())


@bp.route(route=LINKER_ROUTE + "/listConfigurations", methods=["POST"])
@traced_http(LINKER_ROUTE + "/listConfigurations")
async def list_linker_configurations(req: func.HttpRequest) -> func.HttpResponse:
    """The configuration names of the linker and its non-secret values."""
    guarded = _guard(req, "Microsoft.ServiceLinker/linkers/listConfigurations/action")
    if isinstance(guarded, func.HttpResponse):
        return guarded
    cluster, settings, api_version = guarded
    bad_name = _linker_name_error(req.route_params["name"])
    if bad_name is not None:
        return bad_name
    linker_id = linker_id_of(cluster, req.route_params["name"])

    async def run() -> func.HttpResponse:
        record = await ops.get_record(linker_id)
        connection = ops.stored_connection(record)
        if connection is None:
            return arm.not_found(linker_id)
        applied_kind = (record or {}).get("appliedTargetKind")
        if applied_kind:  # what the Secret holds (an OpenAI account's keys are AZURE_OPENAI_*)
            connection = connection.model_copy(update={"target_kind": applied_kind})
        configurations = list_configurations(connection, settings.tenant_id, api_version)
        return arm.json_response(200, {"configurations": configurations})

    return await _handle(run())


# --- Operations ------------------------------------------------------------------------------------------


@bp.route(route=OPERATION_ROUTE, methods=["GET"])
@bp.durable_client_input(client_name="client")
@traced_http(OPERATION_ROUTE)
async def operation_status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """ARM's async-operation status of one operation."""
    refused = arm.api_version_error(req.params.get("api-version") or "")
    if refused is None:
        refused = _content_error(req)
    if refused is not None:
        return refused
    subscription = req.route_params["subscription"]
    operation_id = req.route_params["operation"]
    location = req.route_params["location"]
    op_id = (
        f"/subscriptions/{subscription}/providers/Microsoft.ServiceLinker/locations/"
        f"{location}/operationStatuses/{operation_id}"
    )
    # Operation ids are GUIDs under the one location: anything else names no operation, and is not looked up.
    if not (is_guid(subscription) and is_guid(operation_id) and location.lower() == arm.OPERATION_LOCATION):
        return arm.not_found(op_id[:300])
    status = await ops.instance_status(client, operation_id)
    if status.runtime_status is None:
        return arm.not_found(op_id)
    if not _may_read_operation(status.input_, subscription, TriggerSettings.from_env()):
        return arm.not_found(op_id)
    await _settle_linker_of(client, status, operation_id)
    return arm.json_response(200, arm.operation_status_body(status, operation_id, subscription))


async def _settle_linker_of(client: df.DurableOrchestrationClient, status: Any, operation_id: str) -> None:
    """An ended connect/disconnect: its linker reads what the status says (Canceled/Failed after a crash, the
    outcome when the orchestration's own last write was lost)."""
    payload = status.input_ if isinstance(status.input_, dict) else {}
    linker_id = payload.get("linkerId")
    if status.name not in (ops.CONNECT, ops.DISCONNECT) or not isinstance(linker_id, str):
        return
    if status.runtime_status not in ops.ENDED:
        return
    # The status read must not fail because the registry does not answer: the record is settled next time.
    with contextlib.suppress(ConnectorFailure):
        record = await ops.get_record(linker_id)
        if record is not None and (record.get("lastOperation") or {}).get("id") == operation_id:
            await ops.settle_abandoned(client, record)


def _may_read_operation(payload: Any, subscription: str, settings: TriggerSettings) -> bool:
    """An operation is visible under its own subscription, for a resource inside ALLOWED_SCOPES."""
    payload = payload if isinstance(payload, dict) else {}
    resource = str(payload.get("linkerId") or payload.get("clusterId") or "")
    prefix = f"/subscriptions/{subscription.lower()}"
    if resource:
        return resource.lower().startswith(prefix + "/") and settings.allows(resource)
    # A reconciliation spans every registered connection: visible under any allowed subscription.
    return any(scope == prefix or scope.startswith(prefix + "/") for scope in settings.allowed_scopes)


# --- Cluster operations ----------------------------------------------------------------------------------


@bp.route(route=CLUSTER_ROUTE + "/diagnostics", methods=["GET"])
@traced_http(CLUSTER_ROUTE + "/diagnostics")
async def cluster_diagnostics(req: func.HttpRequest) -> func.HttpResponse:
    """What the registry knows about a cluster's connections: states, last operations, last errors."""
    guarded = _guard(req, "Microsoft.ServiceLinker/linkers/read")
    if isinstance(guarded, func.HttpResponse):
        return guarded
    cluster, _settings, _api_version = guarded

    async def run() -> func.HttpResponse:
        records = await ops.list_records(cluster.id)
        connections = [
            {
                "linkerId": r.get("linkerId"),
                "provisioningState": r.get("provisioningState"),
                "lastOperation": r.get("lastOperation"),
                "lastError": r.get("lastError"),
                "lastReconcileTime": r.get("lastReconcileTime"),
                "updatedAt": r.get("updatedAt"),
            }
            for r in records
        ]
        failed = sum(1 for c in connections if c["provisioningState"] == "Failed")
        body: dict[str, Any] = {"clusterId": cluster.id, "connections": connections, "failed": failed}
        if req.params.get("collect", "").lower() == "true":
            # What the cluster shows now (extension statuses, Helm release, sc-job status and log tail): reads
            # only, through the same scope-guarded clients as the activities.
            body["collected"] = await asyncio.to_thread(collect_diagnostics, cluster.id)
        return arm.json_response(200, body)

    return await _handle(run())


@bp.route(route=CLUSTER_ROUTE + "/resetExtension", methods=["POST"])
@bp.durable_client_input(client_name="client")
@traced_http(CLUSTER_ROUTE + "/resetExtension")
async def cluster_reset_extension(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Delete and reinstall sc-extension, then re-apply the cluster's connections (202 + async operation)."""
    guarded = _guard(req, "Microsoft.KubernetesConfiguration/extensions/write")
    if isinstance(guarded, func.HttpResponse):
        return guarded
    cluster, settings, _api_version = guarded
    operation_id = await ops.start_plain(client, ops.RESET_EXTENSION, {"clusterId": cluster.id}, settings)
    headers = _accepted_headers(req, cluster, operation_id, settings, location=True)
    return func.HttpResponse(status_code=202, headers=headers)


@bp.route(route="api/reconcile", methods=["POST"])
@bp.durable_client_input(client_name="client")
@traced_http("api/reconcile")
async def reconcile_now(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Start a reconciliation of every connection now, or give the one running (202 + its status URL)."""
    # Not an ARM route: api-version is optional here, but one that is sent must be a supported one.
    api_version = req.params.get("api-version")
    refused = None if api_version is None else arm.api_version_error(api_version)
    if refused is None:
        refused = _content_error(req)
    if refused is not None:
        return refused
    settings = TriggerSettings.from_env()
    subscription = _first_allowed_subscription(settings)
    if subscription is None:
        return arm.forbidden("Microsoft.ServiceLinker/linkers/write", "/")
    # One reconciliation at a time (triggers.schedule): a request while one runs is given that one.
    started = await start_singleton(client, {"slot": "manual", "policy": settings.policy()})
    url = arm.operation_url(settings.public_base_url, subscription, started.instance_id)
    body = {"id": started.instance_id, "statusQueryGetUri": url, "alreadyRunning": started.already_running}
    return arm.json_response(202, body, {"Azure-AsyncOperation": url, "Location": url})


def _first_allowed_subscription(settings: TriggerSettings) -> str | None:
    """The subscription a reconciliation's status URL is filed under: the first one ALLOWED_SCOPES names."""
    for scope in settings.allowed_scopes:
        parts = scope.split("/")
        if len(parts) >= 3 and parts[1] == "subscriptions" and is_guid(parts[2]):
            return parts[2]
    return None


# --- Health and the API description ----------------------------------------------------------------------


@bp.route(route="api/health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@traced_http("api/health")
def health(req: func.HttpRequest) -> func.HttpResponse:
    """Liveness probe: answers 200 when the app is loaded."""
    return arm.json_response(200, {"status": "Healthy"})


@bp.route(route="api/openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@traced_http("api/openapi.json")
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    """The OpenAPI 3 document of this API."""
    return arm.json_response(200, openapi_document(TriggerSettings.from_env().public_base_url or "/"))
