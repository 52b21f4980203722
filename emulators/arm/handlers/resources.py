"""Microsoft.Resources (subscriptions, providers, resource groups) and generic reads/actions on any resource.

Provider fields follow specification/resources/resource-manager/Microsoft.Resources/stable/2025-04-01/
resources.json (Provider: id, namespace, registrationState, registrationPolicy, resourceTypes;
ResourceGroup: id, name, type, location, properties.provisioningState).
"""

from __future__ import annotations

from typing import Any

from emulators.arm import errors
from emulators.arm.handlers.common import body_of, ok, page, public_view, require_group
from emulators.arm.state import ArmState, Provider, Subscription, normalize_id
from emulators.arm.targets import ACTIONS
from emulators.common.http import Request, Response


def provider_body(sub: Subscription, provider: Provider) -> dict[str, Any]:
    """A provider as ARM returns it."""
    return {
        "id": f"/subscriptions/{sub.id}/providers/{provider.namespace}",
        "namespace": provider.namespace,
        "registrationState": provider.state,
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": [],
    }


class ResourceHandlers:
    """Handlers bound to one ArmState."""

    def __init__(self, state: ArmState) -> None:
        self.state = state

    def _sub(self, sub_id: str) -> Subscription:
        sub = self.state.subscription(sub_id)
        if sub is None:
            raise errors.subscription_not_found(sub_id)
        return sub

    def _provider(self, req: Request) -> tuple[Subscription, Provider]:
        sub = self._sub(req.params["sub"])
        provider = sub.provider(req.params["ns"])
        if provider is None:
            raise errors.provider_not_found(req.params["ns"], sub.id)
        return sub, provider

    # ----- subscriptions
    def get_subscription(self, req: Request) -> Response:
        """GET a subscription."""
        sub = self._sub(req.params["sub"])
        return ok(
            {
                "id": f"/subscriptions/{sub.id}",
                "subscriptionId": sub.id,
                "displayName": sub.display_name,
                "state": "Enabled",
                "tenantId": self.state.tenant_id,
            }
        )

    def list_subscriptions(self, req: Request) -> Response:
        """GET every subscription."""
        return page(
            req,
            [
                {
                    "id": f"/subscriptions/{s.id}",
                    "subscriptionId": s.id,
                    "displayName": s.display_name,
                    "state": "Enabled",
                    "tenantId": self.state.tenant_id,
                }
                for s in self.state.subscriptions.values()
            ],
            self.state.settings.list_page_size,
        )

    # ----- providers
    def get_provider(self, req: Request) -> Response:
        """GET a provider and its registrationState."""
        sub, provider = self._provider(req)
        return ok(provider_body(sub, provider))

    def list_providers(self, req: Request) -> Response:
        """GET every provider of the subscription."""
        sub = self._sub(req.params["sub"])
        return page(
            req, [provider_body(sub, p) for p in sub.providers.values()], self.state.settings.list_page_size
        )

    def register(self, req: Request) -> Response:
        """POST register: Registering now, Registered after the configured delay on the clock."""
        sub, provider = self._provider(req)
        if provider.state != "Registered":
            provider.state = "Registering"
            provider.registered_at = self.state.now() + self.state.settings.registration_delay
            if self.state.settings.registration_delay <= 0:
                provider.state, provider.registered_at = "Registered", None
        return ok(provider_body(sub, provider))

    def unregister(self, req: Request) -> Response:
        """POST unregister: NotRegistered at once."""
        sub, provider = self._provider(req)
        provider.state, provider.registered_at = "NotRegistered", None
        return ok(provider_body(sub, provider))

    def list_subscription_type(self, req: Request) -> Response:
        """GET every resource of one type in a subscription (e.g. identities list_by_subscription)."""
        sub = self._sub(req.params["sub"])
        wanted = f"{req.params['ns']}/{req.params['type']}"
        prefix = f"/subscriptions/{sub.id}/".lower()
        return page(
            req,
            [public_view(r) for r in self.state.of_type(wanted) if r.id.lower().startswith(prefix)],
            self.state.settings.list_page_size,
        )

    # ----- resource groups
    def get_group(self, req: Request) -> Response:
        """GET a resource group."""
        return ok(dict(require_group(self.state, req.params["sub"], req.params["rg"])))

    def head_group(self, req: Request) -> Response:
        """HEAD a resource group (check_existence): 204 or 404, no body."""
        self._sub(req.params["sub"])
        exists = self.state.resource_group(req.params["sub"], req.params["rg"]) is not None
        return Response.empty(204 if exists else 404)

    def put_group(self, req: Request) -> Response:
        """PUT a resource group (201 new, 200 existing)."""
        self._sub(req.params["sub"])
        existed = self.state.resource_group(req.params["sub"], req.params["rg"]) is not None
        location = str(body_of(req).get("location") or "eastus")
        group = self.state.add_resource_group(req.params["sub"], req.params["rg"], location)
        return ok(dict(group), 200 if existed else 201)

    def list_groups(self, req: Request) -> Response:
        """GET the resource groups of a subscription."""
        return page(
            req,
            [dict(g) for g in self._sub(req.params["sub"]).resource_groups.values()],
            self.state.settings.list_page_size,
        )

    # ----- any resource
    def get_any(self, req: Request) -> Response:
        """GET a resource by id, or a collection (a type under a group or a child type under a resource)."""
        sub, rg, ns, rest = req.params["sub"], req.params["rg"], req.params["ns"], req.params["rest"]
        require_group(self.state, sub, rg)
        segments = rest.strip("/").split("/")
        path = req.path.rstrip("/")
        if len(segments) % 2 == 0:
            resource = self.state.get(path)
            if resource is None:
                raise errors.resource_not_found(f"{ns}/{segments[0]}", "/".join(segments[1:]), rg)
            return ok(public_view(resource))
        parent_path, _, child_type = path.rpartition("/")
        if len(segments) == 1:
            prefix = normalize_id(path) + "/"
            return page(
                req,
                [
                    public_view(r)
                    for k, r in self.state.resources.items()
                    if k.startswith(prefix) and "/" not in k[len(prefix) :]
                ],
                self.state.settings.list_page_size,
            )
        if self.state.get(parent_path) is None:
            raise errors.resource_not_found(f"{ns}/{segments[0]}", "/".join(segments[1:-1]), rg)
        return page(
            req,
            [public_view(r) for r in self.state.children(parent_path, child_type)],
            self.state.settings.list_page_size,
        )

    def head_any(self, req: Request) -> Response:
        """HEAD a resource by id (check_existence_by_id): 204 or 404, no body."""
        return Response.empty(204 if self.state.get(req.path) is not None else 404)

    def post_action(self, req: Request) -> Response:
        """POST an action (listKeys, regenerateKey, ...) on a target resource."""
        sub, rg, ns, rest = req.params["sub"], req.params["rg"], req.params["ns"], req.params["rest"]
        require_group(self.state, sub, rg)
        segments = rest.strip("/").split("/")
        if len(segments) % 2 == 0:
            raise errors.no_route(req.method, req.path)
        resource_path, _, action = req.path.rstrip("/").rpartition("/")
        resource = self.state.get(resource_path)
        if resource is None:
            raise errors.resource_not_found(f"{ns}/{segments[0]}", "/".join(segments[1:-1]), rg)
        handler = ACTIONS.get((resource.type.lower(), action.lower()))
        if handler is None:
            raise errors.no_route(req.method, req.path)
        return ok(handler(self.state, resource, body_of(req)))

    def write_any(self, req: Request) -> Response:
        """PUT/PATCH/DELETE on a resource type the emulator does not write: ARM's 404 or a clear 400."""
        sub, rg, ns, rest = req.params["sub"], req.params["rg"], req.params["ns"], req.params["rest"]
        require_group(self.state, sub, rg)
        segments = rest.strip("/").split("/")
        if len(segments) % 2 == 0 and self.state.get(req.path) is None and req.method != "PUT":
            raise errors.resource_not_found(f"{ns}/{segments[0]}", "/".join(segments[1:]), rg)
        raise errors.no_route(req.method, req.path)
