// The whole deployment of the self-hosted AKS Service Connector: `azd up`, or
// `az deployment group create -g <rg> -f infra/main.bicep -p infra/main.parameters.json`.
// Every app setting the code reads is set in modules/functionapp.bicep; every role of the README's table is
// assigned by the module named for its scope (tests/infra checks both against the code and the README).
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; seeds the names of every resource.')
param environmentName string

@description('Region of every resource (Flex Consumption and, when chosen, the Durable Task Scheduler must be offered there).')
param location string = resourceGroup().location

@description('Subscription ids the connector may act on: each becomes /subscriptions/<id> in ALLOWED_SCOPES and receives the roles of the README\'s table.')
param managedSubscriptionIds array = []

@description('Resource groups the connector may act on, as objects {subscriptionId, resourceGroup}: each becomes a resource-group id in ALLOWED_SCOPES and receives the roles of the README\'s table.')
param managedResourceGroups array = []

@description('Durable Functions backend: AzureStorage (the app\'s storage account, the default) or DurableTaskScheduler (a managed scheduler and task hub, for high throughput).')
@allowed([
  'AzureStorage'
  'DurableTaskScheduler'
])
param durableBackend string = 'AzureStorage'

@description('Durable Task Scheduler SKU when durableBackend is DurableTaskScheduler.')
@allowed([
  'Consumption'
  'Dedicated'
])
param durableTaskSchedulerSku string = 'Consumption'

@description('true: the connector creates missing namespaces, so it needs RBAC Cluster Admin on the clusters instead of RBAC Writer (CREATE_MISSING_NAMESPACE).')
param createMissingNamespace bool = true

@description('Object id of whoever deploys (azd sets AZURE_PRINCIPAL_ID): granted Key Vault Secrets Officer on the vault so the postprovision hook can store the sealing key. Empty: grant it yourself.')
param deployerPrincipalId string = ''

@description('Six-field NCRONTAB schedule of the drift reconciliation (RECONCILE_SCHEDULE).')
param reconcileSchedule string = '0 0 * * * *'

@description('Durable task hub name (DURABLE_TASK_HUB; also the task hub resource\'s name with the Durable Task Scheduler).')
param taskHubName string = 'ServiceConnectorHub'

@description('Further app settings, or overrides of the defaults in modules/functionapp.bicep (for example RECONCILE_REMOVE_ORPHANS).')
param extraAppSettings object = {}

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = {
  'azd-env-name': environmentName
}
var subscriptionScopes = [for id in managedSubscriptionIds: '/subscriptions/${id}']
var resourceGroupScopes = [
  for group in managedResourceGroups: '/subscriptions/${group.subscriptionId}/resourceGroups/${group.resourceGroup}'
]
var scopeIds = concat(subscriptionScopes, resourceGroupScopes)
var useScheduler = durableBackend == 'DurableTaskScheduler'

// One user-assigned identity for everything the app reaches: storage, Service Bus, Key Vault references,
// Application Insights, the Durable Task Scheduler and ARM (DefaultAzureCredential reads AZURE_CLIENT_ID).
resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-sc-${resourceToken}'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    appPrincipalId: appIdentity.properties.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    appPrincipalId: appIdentity.properties.principalId
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    appPrincipalId: appIdentity.properties.principalId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    appPrincipalId: appIdentity.properties.principalId
    deployerPrincipalId: deployerPrincipalId
  }
}

module scheduler 'modules/durable-scheduler.bicep' = if (useScheduler) {
  name: 'durable-scheduler'
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    taskHubName: taskHubName
    skuName: durableTaskSchedulerSku
    appPrincipalId: appIdentity.properties.principalId
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    identityId: appIdentity.id
    identityClientId: appIdentity.properties.clientId
    storageAccountName: storage.outputs.accountName
    tableServiceUri: storage.outputs.tableServiceUri
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    serviceBusNamespaceHost: serviceBus.outputs.namespaceHost
    requestsQueueName: serviceBus.outputs.requestsQueueName
    eventsQueueName: serviceBus.outputs.eventsQueueName
    sealingKeyReference: keyVault.outputs.sealingKeyReference
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    allowedScopes: join(scopeIds, ',')
    durableBackend: durableBackend
    schedulerEndpoint: useScheduler ? scheduler.outputs.endpoint : ''
    taskHubName: taskHubName
    reconcileSchedule: reconcileSchedule
    createMissingNamespace: createMissingNamespace
    extraAppSettings: extraAppSettings
  }
}

// Custom roles for what no built-in role grants narrowly (provider registration, reading targets and listing
// their keys), defined once in this subscription and assignable at every managed scope.
module customRoles 'modules/custom-roles.bicep' = {
  name: 'custom-roles-${resourceToken}'
  scope: subscription()
  params: {
    resourceToken: resourceToken
    assignableScopes: union([subscription().id], scopeIds)
  }
}

module subscriptionRoles 'modules/managed-subscription-roles.bicep' = [
  for id in managedSubscriptionIds: {
    name: 'sc-roles-${uniqueString(id, resourceToken)}'
    scope: subscription(id)
    params: {
      appPrincipalId: appIdentity.properties.principalId
      createMissingNamespace: createMissingNamespace
      registrarRoleId: customRoles.outputs.registrarRoleId
      targetReaderRoleId: customRoles.outputs.targetReaderRoleId
    }
  }
]

module resourceGroupRoles 'modules/managed-resource-group-roles.bicep' = [
  for group in managedResourceGroups: {
    name: 'sc-roles-${uniqueString(group.subscriptionId, group.resourceGroup, resourceToken)}'
    scope: resourceGroup(group.subscriptionId, group.resourceGroup)
    params: {
      appPrincipalId: appIdentity.properties.principalId
      createMissingNamespace: createMissingNamespace
      targetReaderRoleId: customRoles.outputs.targetReaderRoleId
    }
  }
]

// azd reads these into its environment: the hooks and the README's smoke check use them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.vaultName
output SEALING_KEY_SECRET_NAME string = keyVault.outputs.sealingKeySecretName
output ALLOWED_SCOPES string = join(scopeIds, ',')
