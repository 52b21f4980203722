// Durable Task Scheduler and its task hub, for durableBackend = DurableTaskScheduler. The app reaches it with
// its managed identity (DURABLE_TASK_SCHEDULER_CONNECTION_STRING, Authentication=ManagedIdentity).
param location string
param tags object
param resourceToken string
param taskHubName string
param appPrincipalId string

@allowed([
  'Consumption'
  'Dedicated'
])
param skuName string = 'Consumption'

var builtInRoles = loadJsonContent('../built-in-roles.json')
// Roles of the README's "The Durable Task Scheduler" row.
var schedulerRoles = [
  'Durable Task Data Contributor'
]

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' = {
  name: 'dts-sc-${resourceToken}'
  location: location
  tags: tags
  properties: {
    // The Flex Consumption app has no fixed outbound address; access is by Entra ID token only.
    ipAllowlist: [
      '0.0.0.0/0'
    ]
    sku: {
      name: skuName
    }
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2025-11-01' = {
  parent: scheduler
  name: taskHubName
  properties: {}
}

resource schedulerGrants 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in schedulerRoles: {
    name: guid(scheduler.id, appPrincipalId, builtInRoles[role])
    scope: scheduler
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles[role])
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
