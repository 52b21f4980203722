// Log Analytics + workspace-based Application Insights. Local (instrumentation-key) auth is off: the app's
// identity publishes telemetry with Entra ID (APPLICATIONINSIGHTS_AUTHENTICATION_STRING in functionapp.bicep).
param location string
param tags object
param resourceToken string
param appPrincipalId string

var builtInRoles = loadJsonContent('../built-in-roles.json')
// Roles of the README's "The Application Insights component" row.
var telemetryRoles = [
  'Monitoring Metrics Publisher'
]

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-sc-${resourceToken}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-sc-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

resource telemetryGrants 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in telemetryRoles: {
    name: guid(appInsights.id, appPrincipalId, builtInRoles[role])
    scope: appInsights
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles[role])
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

output connectionString string = appInsights.properties.ConnectionString
