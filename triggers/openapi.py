"""The OpenAPI 3 document of the whole HTTP API, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from connector.wire import SUPPORTED_API_VERSIONS

_CLUSTER = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
    "Microsoft.ContainerService/managedClusters/{clusterName}/providers/Microsoft.ServiceLinker"
)
_LINKER = _CLUSTER + "/linkers/{linkerName}"


def _param(name: str, where: str = "path", schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": schema or {"type": "string"}}


_API_VERSION = {
    **_param("api-version", "query", {"type": "string", "enum": list(SUPPORTED_API_VERSIONS)}),
    "required": True,
}
_CLUSTER_PARAMS = [_param("subscriptionId"), _param("resourceGroupName"), _param("clusterName")]
_LINKER_PARAMS = [*_CLUSTER_PARAMS, _param("linkerName"), _API_VERSION]


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": _json(_ref("ErrorResponse"), "Invalid request (nothing was written)"),
    "403": _json(_ref("ErrorResponse"), "AuthorizationFailed: the cluster is outside ALLOWED_SCOPES"),
    "409": _json(_ref("ErrorResponse"), "AnotherOperationInProgress"),
    "415": _json(_ref("ErrorResponse"), "UnsupportedMediaType: a body that is not application/json"),
}
_ASYNC_HEADERS = {
    "Azure-AsyncOperation": {"schema": {"type": "string"}, "description": "Operation status URL to poll"},
}


def _accepted(description: str, *, location: bool) -> dict[str, Any]:
    headers = dict(_ASYNC_HEADERS)
    if location:
        headers["Location"] = {"schema": {"type": "string"}, "description": "Same operation status URL"}
    return {"description": description, "headers": headers}


_SCHEMAS: dict[str, Any] = {
    "ErrorResponse": {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "target": {"type": "string"},
                    "details": {"type": "array", "items": {"type": "object"}},
                    "additionalInfo": {"type": "array", "items": {"type": "object"}},
                },
            }
        },
    },
    "LinkerResource": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "readOnly": True},
            "name": {"type": "string", "readOnly": True},
            "type": {"type": "string", "readOnly": True},
            "properties": {
                "type": "object",
                "properties": {
                    "targetService": {
                        "type": "object",
                        "description": "{type: AzureResource, id, resourceProperties?}",
                    },
                    "authInfo": {
                        "type": "object",
                        "description": "authType: userAssignedIdentity | "
                        "servicePrincipalSecret | secret (secret values are write-only)",
                    },
                    "clientType": {"type": "string"},
                    "scope": {"type": "string", "description": "Kubernetes namespace (default 'default')"},
                    "secretStore": {"type": "object"},
                    "configurationInfo": {
                        "type": "object",
                        "description": "every api-version after 2022-05-01: customizedKeys, "
                        "deleteOrUpdateBehavior (Default | ForcedCleanup)",
                    },
                    "provisioningState": {"type": "string", "readOnly": True},
                },
            },
        },
    },
    "LinkerList": {
        "type": "object",
        "properties": {
            "value": {"type": "array", "items": _ref("LinkerResource")},
            "nextLink": {"type": "string", "nullable": True},
        },
    },
    "OperationStatus": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "resourceId": {"type": "string"},
            "status": {"type": "string", "enum": ["Accepted", "Deleting", "Succeeded", "Failed", "Canceled"]},
            "startTime": {"type": "string", "format": "date-time"},
            "endTime": {"type": "string", "format": "date-time"},
            "properties": {
                "type": "object",
                "nullable": True,
                "description": "validateLinker: the validation result (validationDetail...)",
            },
            "error": {"type": "object"},
        },
    },
    "SourceConfigurationResult": {
        "type": "object",
        "properties": {
            "configurations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "value": {
                            "type": "string",
                            "nullable": True,
                            "description": "null for secret values",
                        },
                    },
                },
            }
        },
    },
}


def openapi_document(server_url: str) -> dict[str, Any]:
    """The OpenAPI 3.0 document, with the configured public URL (never the request's Host)."""
    linker_body = {"required": True, "content": {"application/json": {"schema": _ref("LinkerResource")}}}
    paths: dict[str, Any] = {
        _CLUSTER + "/linkers": {
            "get": {
                "operationId": "Linker_List",
                "parameters": [*_CLUSTER_PARAMS, _API_VERSION, _param("$skipToken", "query")],
                "responses": {"200": _json(_ref("LinkerList"), "One page of linkers"), **_ERRORS},
            }
        },
        _LINKER: {
            "get": {
                "operationId": "Linker_Get",
                "parameters": _LINKER_PARAMS,
                "responses": {
                    "200": _json(_ref("LinkerResource"), "The linker"),
                    **_ERRORS,
                    "404": _json(_ref("ErrorResponse"), "No such linker"),
                },
            },
            "put": {
                "operationId": "Linker_CreateOrUpdate",
                "parameters": _LINKER_PARAMS,
                "requestBody": linker_body,
                "responses": {
                    "201": {
                        **_json(_ref("LinkerResource"), "Accepted (provisioningState Accepted)"),
                        "headers": _ASYNC_HEADERS,
                    },
                    **_ERRORS,
                },
            },
            "patch": {
                "operationId": "Linker_Update",
                "parameters": _LINKER_PARAMS,
                "requestBody": linker_body,
                "responses": {
                    "201": {**_json(_ref("LinkerResource"), "Accepted"), "headers": _ASYNC_HEADERS},
                    **_ERRORS,
                },
            },
            "delete": {
                "operationId": "Linker_Delete",
                "parameters": _LINKER_PARAMS,
                "responses": {
                    "202": _accepted("Deletion started", location=True),
                    "204": {"description": "No such linker"},
                    **_ERRORS,
                },
            },
        },
        _LINKER + "/validateLinker": {
            "post": {
                "operationId": "Linker_Validate",
                "parameters": _LINKER_PARAMS,
                "responses": {"202": _accepted("Validation started", location=True), **_ERRORS},
            }
        },
        _LINKER + "/listConfigurations": {
            "post": {
                "operationId": "Linker_ListConfigurations",
                "parameters": _LINKER_PARAMS,
                "responses": {
                    "200": _json(_ref("SourceConfigurationResult"), "Names and non-secret values"),
                    **_ERRORS,
                },
            }
        },
        "/subscriptions/{subscriptionId}/providers/Microsoft.ServiceLinker/locations/{location}/"
        "operationStatuses/{operationId}": {
            "get": {
                "operationId": "OperationStatus_Get",
                "parameters": [
                    _param("subscriptionId"),
                    _param("location"),
                    _param("operationId"),
                    _API_VERSION,
                ],
                "responses": {
                    "200": _json(_ref("OperationStatus"), "The operation's status"),
                    "400": _ERRORS["400"],
                    "404": _json(_ref("ErrorResponse"), "No such operation"),
                },
            }
        },
        _CLUSTER + "/diagnostics": {
            "get": {
                "operationId": "Cluster_Diagnostics",
                "parameters": [
                    *_CLUSTER_PARAMS,
                    _API_VERSION,
                    _param("collect", "query", {"type": "boolean"}),
                ],
                "responses": {
                    "200": {"description": "Connections of the cluster with states and last errors"},
                    **_ERRORS,
                },
            }
        },
        _CLUSTER + "/resetExtension": {
            "post": {
                "operationId": "Cluster_ResetExtension",
                "parameters": [*_CLUSTER_PARAMS, _API_VERSION],
                "responses": {"202": _accepted("Reset started", location=True), **_ERRORS},
            }
        },
        "/api/reconcile": {
            "post": {
                "operationId": "Reconcile_Now",
                "parameters": [{**_API_VERSION, "required": False}],
                "responses": {"202": _accepted("Reconciliation started", location=True), **_ERRORS},
            }
        },
        "/api/health": {
            "get": {"operationId": "Health", "security": [], "responses": {"200": {"description": "Healthy"}}}
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "OpenApi",
                "security": [],
                "responses": {"200": {"description": "This document"}},
            }
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Self-hosted Service Connector for AKS",
            "version": "1.0.0",
            "description": "The Microsoft.ServiceLinker linker API for managedCluster sources, served by a "
            "Durable Functions app. Authenticate with a function key (x-functions-key header "
            "or code query parameter).",
        },
        "servers": [{"url": server_url}],
        "security": [{"functionKey": []}, {"functionKeyQuery": []}],
        "paths": paths,
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {
                "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
                "functionKeyQuery": {"type": "apiKey", "in": "query", "name": "code"},
            },
        },
    }
