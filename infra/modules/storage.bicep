// The app's storage account: AzureWebJobsStorage (host, timers, Durable task hub with the Azure Storage
// backend), the connection registry's table, and the container Flex Consumption deploys the package from.
// Shared-key access is off: every client, the host's included, uses the app's managed identity.
param location string
param tags object
param resourceToken string
param appPrincipalId string

@description('Table of the connection registry (REGISTRY_TABLE).')
param registryTableName string = 'connections'

var builtInRoles = loadJsonContent('../built-in-roles.json')
var deploymentContainerName = 'app-package'
// Roles of the README's "The app's storage account" row.
var storageRoles = [
  'Storage Blob Data Owner'
  'Storage Queue Data Contributor'
  'Storage Table Data Contributor'
]

resource storageAccount 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  // checkov:skip=CKV_AZURE_35: the app (no VNet integration in this template) reaches its storage over the public endpoint; shared keys are off, so only the identities granted below get in
  // checkov:skip=CKV_AZURE_59: same reason; blob public access (anonymous reads) is off (allowBlobPublicAccess: false)
  // checkov:skip=CKV_AZURE_43: the name is 'stsc' + uniqueString (13 lowercase alphanumerics), 17 characters, within the naming rules; checkov cannot evaluate the expression
  name: 'stsc${resourceToken}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    // Geo-redundant: the registry (desired state of every connection) and the task hub survive a region loss.
    name: 'Standard_GRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2024-01-01' = {
  parent: storageAccount
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2024-01-01' = {
  parent: storageAccount
  name: 'default'
}

resource registryTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2024-01-01' = {
  parent: tableService
  name: registryTableName
}

resource storageGrants 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in storageRoles: {
    name: guid(storageAccount.id, appPrincipalId, builtInRoles[role])
    scope: storageAccount
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles[role])
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

output accountName string = storageAccount.name
output tableServiceUri string = storageAccount.properties.primaryEndpoints.table
output deploymentContainerUrl string = '${storageAccount.properties.primaryEndpoints.blob}${deploymentContainerName}'
output registryTableName string = registryTable.name
