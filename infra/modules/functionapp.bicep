// Flex Consumption plan and the Function App (Python 3.11) with every app setting the code reads.
// tests/infra/test_bicep_contract.py computes that list from the code and checks it against appSettings below.
param location string
param tags object
param resourceToken string
param identityId string
param identityClientId string
param storageAccountName string
param tableServiceUri string
param deploymentContainerUrl string
param serviceBusNamespaceHost string
param requestsQueueName string
param eventsQueueName string
param sealingKeyReference string
param applicationInsightsConnectionString string
param allowedScopes string
param durableBackend string
param schedulerEndpoint string
param taskHubName string
param reconcileSchedule string
param createMissingNamespace bool
param extraAppSettings object

@description('Most instances Flex Consumption scales the app out to.')
param maximumInstanceCount int = 40

@description('Memory of one instance, in MB (Flex Consumption offers 512, 2048 and 4096).')
param instanceMemoryMB int = 2048

// Identity-based connections only: no connection string or key anywhere in the settings.
var identitySettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__tableServiceUri: tableServiceUri
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  SERVICEBUS_CONNECTION__fullyQualifiedNamespace: serviceBusNamespaceHost
  SERVICEBUS_CONNECTION__credential: 'managedidentity'
  SERVICEBUS_CONNECTION__clientId: identityClientId
  // DefaultAzureCredential (ARM, Kubernetes credentials, the registry) picks the user-assigned identity.
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  // The component has local auth off: the host sends telemetry with the identity's Entra ID token.
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

// The app's own settings (README "Settings"). Tunables carry the code's defaults, so the portal shows the
// values in force; tests/infra checks that each equals the default in code.
var connectorSettings = {
  DURABLE_TASK_HUB: taskHubName
  RECONCILE_SCHEDULE: reconcileSchedule
  ALLOWED_SCOPES: allowedScopes
  AZURE_TENANT_ID: tenant().tenantId
  SECRET_SEALING_KEY: sealingKeyReference
  REGISTRY_TABLE: 'connections'
  REGISTRY_TIMEOUT_SECONDS: '5'
  SERVICEBUS_REQUESTS_QUEUE: requestsQueueName
  SERVICEBUS_EVENTS_QUEUE: eventsQueueName
  ARM_POLLING_INTERVAL_SECONDS: '30'
  ARM_RETRY_TOTAL: '5'
  ARM_RETRY_BACKOFF_FACTOR: '0.8'
  ARM_MAX_INLINE_RETRY_AFTER_SECONDS: '30'
  RECONCILE_MAX_PARALLEL_CLUSTERS: '4'
  RECONCILE_JITTER_SECONDS: '60'
  RECONCILE_REMOVE_ORPHANS: 'false'
  EXTENSION_TYPE: 'microsoft.servicelinker.connection'
  EXTENSION_RELEASE_TRAIN: 'stable'
  EXTENSION_VERSION: ''
  CLUSTER_READY_TIMEOUT_SECONDS: '3600'
  EXTENSION_READY_TIMEOUT_SECONDS: '1800'
  PROVIDER_READY_TIMEOUT_SECONDS: '900'
  BACKOFF_INITIAL_SECONDS: '15'
  BACKOFF_MAX_SECONDS: '300'
  TRANSIENT_RETRY_DEADLINE_SECONDS: '1800'
  CREATE_MISSING_NAMESPACE: createMissingNamespace ? 'true' : 'false'
  LIST_PAGE_SIZE: '100'
}

// host.json keeps the Azure Storage backend; with the Durable Task Scheduler these settings override its
// storageProvider and extension bundle (the Functions host reads AzureFunctionsJobHost__<path> over host.json),
// as the Durable Task Scheduler's Python sample configures them.
var schedulerSettings = {
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${schedulerEndpoint};Authentication=ManagedIdentity;ClientID=${identityClientId}'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'azureManaged'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
  AzureFunctionsJobHost__extensionBundle__id: 'Microsoft.Azure.Functions.ExtensionBundle.Preview'
  AzureFunctionsJobHost__extensionBundle__version: '[4.34.0, 5.0.0)'
}

var backendSettings = durableBackend == 'DurableTaskScheduler' ? schedulerSettings : {}
var appSettings = union(identitySettings, connectorSettings, backendSettings, extraAppSettings)

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  // checkov:skip=CKV_AZURE_225: zone redundancy of a Flex Consumption plan is offered in some regions only; enable it (properties.zoneRedundant) where the region has availability zones
  name: 'plan-sc-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-11-01' = {
  // checkov:skip=CKV_AZURE_222: the ServiceLinker-compatible API is called by platform teams' tools from outside Azure; access is guarded by function keys or App Service authentication and ALLOWED_SCOPES
  // checkov:skip=CKV_AZURE_17: clients authenticate with function keys or Entra ID tokens (README: Authentication), not client certificates
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales out on demand (maximumInstanceCount); instance minimums are the App Service plan setting this check reads, which Flex does not use
  // checkov:skip=CKV_AZURE_213: Flex Consumption does not support App Service health check; the README's smoke check calls /api/health
  name: 'func-sc-${resourceToken}'
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [for setting in items(appSettings): {
        name: setting.key
        value: setting.value
      }]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
