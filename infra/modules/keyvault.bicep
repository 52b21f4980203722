// Key Vault (RBAC mode, purge protection) that holds the sealing key. The template never holds the key: the
// postprovision hook (infra/hooks/seal-key.sh) generates it with `openssl rand -base64 32` once and stores
// it here; the app reads it through a Key Vault reference (SECRET_SEALING_KEY).
param location string
param tags object
param resourceToken string
param appPrincipalId string

@description('Object id allowed to write the sealing key (the deploying user); empty: none granted here.')
param deployerPrincipalId string = ''

@description('Name of the secret holding the base64 32-byte AES-GCM sealing key.')
param sealingKeySecretName string = 'sealing-key'

var builtInRoles = loadJsonContent('../built-in-roles.json')
// Roles of the README's "The Key Vault holding the sealing key" row.
var vaultRoles = [
  'Key Vault Secrets User'
]
var deployerRoles = empty(deployerPrincipalId) ? [] : [
  'Key Vault Secrets Officer'
]

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  // checkov:skip=CKV_AZURE_109: the Flex Consumption app has no VNet integration in this template and resolves its Key Vault reference over the public endpoint; access is by Entra ID RBAC only
  // checkov:skip=CKV_AZURE_189: same reason: a private endpoint needs the VNet this template does not create
  name: 'kv-sc-${resourceToken}'
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource vaultGrants 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in vaultRoles: {
    name: guid(vault.id, appPrincipalId, builtInRoles[role])
    scope: vault
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles[role])
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource deployerGrants 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in deployerRoles: {
    name: guid(vault.id, deployerPrincipalId, builtInRoles[role])
    scope: vault
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles[role])
      principalId: deployerPrincipalId
    }
  }
]

output vaultName string = vault.name
output sealingKeySecretName string = sealingKeySecretName
// No version: the app picks up a rotated key at its next restart (App Service re-reads unversioned references).
output sealingKeyReference string = '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=${sealingKeySecretName})'
