// Service Bus namespace (Standard: duplicate detection needs it) with the requests queue the app's trigger
// reads and the events queue it writes outcomes and rejections to. Local (SAS) auth is off.
param location string
param tags object
param resourceToken string
param appPrincipalId string

@description('Queue carrying connection requests (SERVICEBUS_REQUESTS_QUEUE).')
param requestsQueueName string = 'connection-requests'

@description('Queue receiving outcome and rejection events (SERVICEBUS_EVENTS_QUEUE).')
param eventsQueueName string = 'connection-events'

@description('Deliveries of one request before Service Bus dead-letters it (the trigger abandons a message whose handling failed).')
param maxDeliveryCount int = 10

var builtInRoles = loadJsonContent('../built-in-roles.json')
// Roles of the README's "The requests queue" and "The events queue" rows.
var requestsQueueRoles = [
  'Azure Service Bus Data Receiver'
]
var eventsQueueRoles = [
  'Azure Service Bus Data Sender'
]

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: 'sb-sc-${resourceToken}'
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource requestsQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: requestsQueueName
  properties: {
    // A request re-sent with the same MessageId within the window is dropped by the broker.
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT10M'
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P14D'
    // host.json renews the lock for up to 5 minutes; one minute per lock keeps a crashed host's message short.
    lockDuration: 'PT1M'
  }
}

resource eventsQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: eventsQueueName
  properties: {
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P14D'
  }
}

resource requestsQueueGrants 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in requestsQueueRoles: {
    name: guid(requestsQueue.id, appPrincipalId, builtInRoles[role])
    scope: requestsQueue
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles[role])
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource eventsQueueGrants 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in eventsQueueRoles: {
    name: guid(eventsQueue.id, appPrincipalId, builtInRoles[role])
    scope: eventsQueue
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles[role])
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// serviceBusEndpoint is https://<host>:443/; the identity-based connection wants the bare host.
output namespaceHost string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
output requestsQueueName string = requestsQueue.name
output eventsQueueName string = eventsQueue.name
