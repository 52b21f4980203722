"""An HTTPS subset of Azure Resource Manager for tests and `make run`, driven by the real azure-mgmt-* SDKs.

All paths are case-insensitive; a bearer token is required; each provider accepts only the api-versions its
spec lists (emulators/arm/api_versions.py: 400 MissingApiVersionParameter / NoRegisteredProviderFound).

- Microsoft.Resources: subscriptions; providers (get, list, register: Registering, then Registered after
  `registrationDelaySeconds`; unregister); resource groups (get, put, list).
- Microsoft.ContainerService/managedClusters: get, list, PUT/PATCH(tags) as LROs (Updating for
  `clusterUpdateSeconds`), delete, listClusterUserCredential/listClusterAdminCredential (a kubeconfig for the
  kube emulator cluster registered through KubeLink). Writes while busy: 409 OperationNotAllowed.
- Microsoft.KubernetesConfiguration/extensions under a managed cluster: put, patch, get, delete, list,
  operation status; LROs with Azure-AsyncOperation; 409 MissingSubscriptionRegistration while the provider is
  not Registered and 409 while the cluster is not Succeeded. Installs write the Helm release Secret (and, on
  an injected failure, a failed sc-job Job and its pod logs) into the kube emulator.
- Microsoft.ManagedIdentity/userAssignedIdentities and their federatedIdentityCredentials.
- Microsoft.Authorization/roleAssignments at any scope, and built-in roleDefinitions.
- Target services (emulators/arm/targets.py): GET, child collections, listKeys and friends.
- Key Vault secrets data plane (emulators/arm/key_vault.py): each seeded vault on its own HTTPS listener (its
  vaultUri), with the Key Vault auth challenge; set/get/list/versions/soft delete/purge/recover at 7.4-7.6.
- Anything else under a resource group: ARM-shaped 404 (ResourceNotFound / ResourceGroupNotFound).

Use `ArmEmulator(clock=VirtualClock(), kube=KubeLink(...)).start()`. Admin routes: emulators/arm/emulator.py.
Seed format: emulators/seeds/README.md. Process: `python -m emulators.arm --port P [--state seed.yaml]
[--ca-file out.pem] [--kube-admin-url U --kube-ca-file F]`.
"""

from emulators.arm.emulator import ArmEmulator
from emulators.arm.handlers.aks import cluster_id, kube_key
from emulators.arm.state import ArmState

__all__ = ["ArmEmulator", "ArmState", "cluster_id", "kube_key"]
