// Custom roles for what no built-in role grants narrowly. Names carry the resource token: a role name is
// unique per tenant, and two environments of the connector must not collide.
targetScope = 'subscription'

param resourceToken string
param assignableScopes array

// Registering Microsoft.KubernetesConfiguration (step 1 of every connection) and reading its state.
resource registrar 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, resourceToken, 'provider-registrar')
  properties: {
    roleName: 'AKS Service Connector provider registrar ${resourceToken}'
    description: 'Registers the Microsoft.KubernetesConfiguration resource provider and reads its registration state.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.KubernetesConfiguration/register/action'
          'Microsoft.Resources/subscriptions/providers/read'
        ]
        notActions: []
      }
    ]
    assignableScopes: assignableScopes
  }
}

// Reading the connection targets and listing their keys (secret auth), for every target kind of the catalog
// whose secret comes from a list-keys action (connector/_catalog_*.py).
resource targetReader 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, resourceToken, 'target-reader')
  properties: {
    roleName: 'AKS Service Connector target reader ${resourceToken}'
    description: 'Reads the services connections point at and lists their access keys.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.Storage/storageAccounts/read'
          'Microsoft.Storage/storageAccounts/listKeys/action'
          'Microsoft.DocumentDB/databaseAccounts/read'
          'Microsoft.DocumentDB/databaseAccounts/listKeys/action'
          'Microsoft.DocumentDB/databaseAccounts/listConnectionStrings/action'
          'Microsoft.ServiceBus/namespaces/read'
          'Microsoft.ServiceBus/namespaces/authorizationRules/listKeys/action'
          'Microsoft.EventHub/namespaces/read'
          'Microsoft.EventHub/namespaces/authorizationRules/listKeys/action'
          'Microsoft.AppConfiguration/configurationStores/read'
          'Microsoft.AppConfiguration/configurationStores/ListKeys/action'
          'Microsoft.Cache/redis/read'
          'Microsoft.Cache/redis/listKeys/action'
          'Microsoft.CognitiveServices/accounts/read'
          'Microsoft.CognitiveServices/accounts/listKeys/action'
          'Microsoft.KeyVault/vaults/read'
          'Microsoft.DBforPostgreSQL/flexibleServers/read'
          'Microsoft.DBforMySQL/flexibleServers/read'
          'Microsoft.Sql/servers/read'
          'Microsoft.Sql/servers/databases/read'
        ]
        notActions: []
      }
    ]
    assignableScopes: assignableScopes
  }
}

// Role definition names (GUIDs): assignments build the id in their own subscription.
output registrarRoleId string = registrar.name
output targetReaderRoleId string = targetReader.name
