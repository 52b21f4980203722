"""Microsoft.ManagedIdentity: user-assigned identities and their federated identity credentials.

Fields follow specification/msi/resource-manager/Microsoft.ManagedIdentity/stable/2024-11-30/
ManagedIdentity.json (UserAssignedIdentityProperties: tenantId, principalId, clientId;
FederatedIdentityCredentialProperties: issuer, subject, audiences). Credential limits and name rules come from
learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations: at most 20 per identity,
name 3-120 characters of letters, digits, '-' and '_' starting with a letter or digit, exactly one audience.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlparse

from emulators.arm import errors, replication
from emulators.arm.handlers.common import body_of, ok, page, public_view, require_group, require_resource
from emulators.arm.state import DEFAULT_LOCATION, ArmState, Resource, new_guid, normalize_id
from emulators.common.http import Request, Response

IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
FIC_SEGMENT = "federatedIdentityCredentials"
FIC_TYPE = f"{IDENTITY_TYPE}/{FIC_SEGMENT}"
_FIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")


def identity_id(sub: str, rg: str, name: str) -> str:
    """The ARM id of a user-assigned identity."""
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{IDENTITY_TYPE}/{name}"


def new_identity(
    state: ArmState,
    sub: str,
    rg: str,
    name: str,
    location: str = DEFAULT_LOCATION,
    client_id: str | None = None,
    principal_id: str | None = None,
    tags: dict[str, str] | None = None,
) -> Resource:
    """Build (not store) a user-assigned identity with fresh (or given) client and principal ids."""
    rid = identity_id(sub, rg, name)
    return Resource(
        rid,
        IDENTITY_TYPE,
        {
            "id": rid,
            "name": name,
            "type": IDENTITY_TYPE,
            "location": location,
            "tags": dict(tags or {}),
            "properties": {
                "tenantId": state.tenant_id,
                "principalId": principal_id or new_guid(),
                "clientId": client_id or new_guid(),
                "isolationScope": "None",
            },
        },
    )


def _validate_fic(name: str, props: dict[str, Any]) -> dict[str, Any]:
    if not _FIC_NAME.match(name):
        raise errors.invalid_request(
            "BadRequest",
            f"The federated identity credential name '{name}' is invalid. It must be 3-120 characters long, "
            "start with a letter or number, and contain only letters, numbers, hyphens and underscores.",
            target="name",
        )
    issuer = props.get("issuer")
    parsed = urlparse(issuer) if isinstance(issuer, str) else None
    if parsed is None or parsed.scheme != "https" or not parsed.netloc:
        raise errors.invalid_request(
            "BadRequest",
            f"The issuer '{issuer}' is invalid. The issuer must be a valid URL using https.",
            target="properties.issuer",
        )
    subject = props.get("subject")
    if not isinstance(subject, str) or not subject.strip():
        raise errors.invalid_request(
            "BadRequest", "The subject must be a non-empty string.", target="properties.subject"
        )
    audiences = props.get("audiences")
    if (
        not isinstance(audiences, list)
        or len(audiences) != 1
        or not isinstance(audiences[0], str)
        or not audiences[0]
    ):
        raise errors.invalid_request(
            "BadRequest",
            "Exactly one audience must be specified for a federated identity credential.",
            target="properties.audiences",
        )
    return {"issuer": issuer, "subject": subject, "audiences": list(audiences)}


class IdentityHandlers:
    """Handlers bound to one ArmState."""

    def __init__(self, state: ArmState) -> None:
        self.state = state

    def _identity(self, p: dict[str, str]) -> Resource:
        return require_resource(
            self.state,
            p["sub"],
            p["rg"],
            identity_id(p["sub"], p["rg"], p["identity"]),
            f"{IDENTITY_TYPE}/{p['identity']}",
        )

    def get(self, req: Request) -> Response:
        """GET an identity."""
        return ok(public_view(self._identity(req.params)))

    def put(self, req: Request) -> Response:
        """PUT an identity (create 201 or update tags 200)."""
        p = req.params
        group = require_group(self.state, p["sub"], p["rg"])
        body = body_of(req)
        existing = self.state.get(identity_id(p["sub"], p["rg"], p["identity"]))
        if existing is not None:
            if "tags" in body:
                existing.body["tags"] = dict(body.get("tags") or {})
            return ok(public_view(existing))
        identity = new_identity(
            self.state,
            p["sub"],
            p["rg"],
            p["identity"],
            str(body.get("location") or group["location"]),
            tags=body.get("tags"),
        )
        replication.remember_created(self.state, identity)
        self.state.put(identity)
        return ok(public_view(identity), 201)

    def list_group(self, req: Request) -> Response:
        """GET the identities of a resource group."""
        require_group(self.state, req.params["sub"], req.params["rg"])
        prefix = f"/subscriptions/{req.params['sub']}/resourcegroups/{req.params['rg']}/".lower()
        return page(
            req,
            [public_view(r) for r in self.state.of_type(IDENTITY_TYPE) if r.id.lower().startswith(prefix)],
            self.state.settings.list_page_size,
        )

    def fic_get(self, req: Request) -> Response:
        """GET one federated identity credential."""
        identity = self._identity(req.params)
        fic = self.state.get(f"{identity.id}/{FIC_SEGMENT}/{req.params['name']}")
        if fic is None:
            raise errors.resource_not_found(
                FIC_TYPE, f"{identity.name}/{req.params['name']}", req.params["rg"]
            )
        return ok(public_view(fic))

    def fic_list(self, req: Request) -> Response:
        """GET the federated identity credentials of an identity."""
        identity = self._identity(req.params)
        return page(
            req,
            [public_view(f) for f in self.state.children(identity.id, FIC_SEGMENT)],
            self.state.settings.list_page_size,
        )

    def fic_delete(self, req: Request) -> Response:
        """DELETE a federated identity credential (200, or 204 when absent)."""
        with self.state.lock:
            identity = self._identity(req.params)
            fic_id = f"{identity.id}/{FIC_SEGMENT}/{req.params['name']}"
            self._begin_write(identity.id)
        try:
            time.sleep(self.state.settings.fic_write_latency)
            with self.state.lock:
                removed = self.state.delete(fic_id)
        finally:
            self._end_write(identity.id)
        return Response.empty(200 if removed is not None else 204)

    def fic_put(self, req: Request) -> Response:
        """PUT a federated identity credential: validated, at most `fic_limit`, one write at a time."""
        body = body_of(req)
        with self.state.lock:
            identity = self._identity(req.params)
            name = req.params["name"]
            props = _validate_fic(name, body.get("properties") or {})
            fic_id = f"{identity.id}/{FIC_SEGMENT}/{name}"
            self._begin_write(identity.id)
        # The write holds the identity for a short real time, outside the lock: overlapping writers collide
        # exactly as they do on Azure, while sequential writers never do.
        try:
            time.sleep(self.state.settings.fic_write_latency)
            with self.state.lock:
                return self._store_fic(identity, fic_id, name, props)
        finally:
            self._end_write(identity.id)

    def _store_fic(self, identity: Resource, fic_id: str, name: str, props: dict[str, Any]) -> Response:
        siblings = self.state.children(identity.id, FIC_SEGMENT)
        existing = self.state.get(fic_id)
        for other in siblings:
            if (
                normalize_id(other.id) != normalize_id(fic_id)
                and other.properties.get("issuer") == props["issuer"]
                and other.properties.get("subject") == props["subject"]
            ):
                raise errors.fic_issuer_subject_exists()
        if existing is None and len(siblings) >= self.state.settings.fic_limit:
            raise errors.fic_limit_exceeded(identity.id, self.state.settings.fic_limit)
        fic = Resource(
            fic_id,
            FIC_TYPE,
            {
                "id": f"{identity.id}/{FIC_SEGMENT}/{name}",
                "name": name,
                "type": FIC_TYPE,
                "properties": props,
            },
        )
        self.state.put(fic)
        return ok(public_view(fic), 200 if existing is not None else 201)

    def _begin_write(self, identity: str) -> None:
        key = normalize_id(identity)
        if key in self.state.fic_writes_in_flight:
            raise errors.concurrent_fic_writes(identity)
        self.state.fic_writes_in_flight.add(key)

    def _end_write(self, identity: str) -> None:
        with self.state.lock:
            self.state.fic_writes_in_flight.discard(normalize_id(identity))
