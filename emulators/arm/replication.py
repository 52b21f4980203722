"""The Entra ID replication delay a role assignment meets right after its principal was created.

Azure's RBAC troubleshooting page (https://learn.microsoft.com/azure/role-based-access-control/troubleshooting,
symptom "PrincipalNotFound") says: assigning a role to a principal created moments ago can fail with 400
`PrincipalNotFound` because the directory has not replicated it yet, and setting the assignment's
`principalType` avoids it (ARM then waits for replication itself). The wording below is ARM's, as users report
it (e.g. https://luke.geek.nz/azure/PrincpalNotFound-bicep-roleassignment/, principal id without hyphens).

Modelled: identities created through the API remember when (emulator clock); an assignment WITHOUT
`principalType` to such an identity's principal within `principalReplicationSeconds` gets that 400. Users also
report the error with `principalType` set (MicrosoftDocs/azure-docs#103085; Azure/azure-powershell#2286):
`principalReplicationTypedSeconds` is that shorter or equal window, which a client can only wait out. Seeded
identities count as long replicated. 0 (the default) turns each delay off.
"""

from __future__ import annotations

from emulators.arm.errors import ArmError
from emulators.arm.state import ArmState, Resource

IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
CREATED_AT = "createdAt"


def remember_created(state: ArmState, identity: Resource) -> None:
    """Note when an identity was created through the API (its principal starts replicating then)."""
    identity.extra[CREATED_AT] = state.now()


def principal_not_found(principal_id: str, tenant_id: str) -> ArmError:
    """400 PrincipalNotFound, as ARM words it for a principal the directory does not know yet."""
    return ArmError(
        400,
        "PrincipalNotFound",
        f"Principal {principal_id.replace('-', '').lower()} does not exist in the directory {tenant_id}. "
        "Check that you have the correct principal ID. If you are creating this principal and then "
        "immediately assigning a role, this error might be related to a replication delay. In this case, set "
        "the role assignment principalType property to a value, such as ServicePrincipal, User, or Group. "
        "See https://aka.ms/docs-principaltype",
    )


def check_replicated(state: ArmState, principal_id: str, principal_type: object) -> None:
    """Raise PrincipalNotFound for an assignment to a principal still replicating (an untyped one, or a typed
    one within the typed window)."""
    settings = state.settings
    window = (
        settings.principal_replication_typed_seconds
        if principal_type
        else settings.principal_replication_seconds
    )
    if window <= 0:
        return
    for identity in state.of_type(IDENTITY_TYPE):
        created = identity.extra.get(CREATED_AT)
        props = identity.properties
        if created is None or str(props.get("principalId", "")).lower() != principal_id.lower():
            continue
        if state.now() - float(created) < window:
            raise principal_not_found(principal_id, str(props.get("tenantId") or state.tenant_id))
