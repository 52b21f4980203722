// The roles the connector's identity holds on one managed subscription of ALLOWED_SCOPES (README role table:
// "Each subscription in ALLOWED_SCOPES" and "Each scope in ALLOWED_SCOPES").
targetScope = 'subscription'

param appPrincipalId string
param createMissingNamespace bool
param registrarRoleId string
param targetReaderRoleId string

var roleIds = union(loadJsonContent('../built-in-roles.json'), {
  'AKS Service Connector provider registrar': registrarRoleId
  'AKS Service Connector target reader': targetReaderRoleId
})
// Creating a missing namespace needs cluster-wide rights; writing Secrets and ServiceAccounts does not.
var kubernetesDataRole = createMissingNamespace ? 'Azure Kubernetes Service RBAC Cluster Admin' : 'Azure Kubernetes Service RBAC Writer'
// Provider registration is a subscription-level action: only subscription scopes get it.
var subscriptionRoles = [
  'AKS Service Connector provider registrar'
]
var scopeRoles = [
  'Azure Kubernetes Service Contributor Role'
  'Kubernetes Extension Contributor'
  'Azure Kubernetes Service Cluster User Role'
  kubernetesDataRole
  'Managed Identity Contributor'
  'AKS Service Connector target reader'
]

resource subscriptionGrants 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in subscriptionRoles: {
    name: guid(subscription().id, appPrincipalId, roleIds[role])
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds[role])
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource scopeGrants 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in scopeRoles: {
    name: guid(subscription().id, appPrincipalId, roleIds[role])
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds[role])
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Workload identity grants the target's data roles to the connection's identity: the connector may assign
// only the roles of its target catalog (grantable-roles.json, checked against connector/_catalog_*.py).
var grantableRoles = join(loadJsonContent('../grantable-roles.json').roleDefinitionIds, ', ')
var delegationCondition = '((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/write\'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${grantableRoles}})) AND ((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/delete\'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${grantableRoles}}))'
var delegationRoles = [
  'Role Based Access Control Administrator'
]

resource delegationGrants 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in delegationRoles: {
    name: guid(subscription().id, appPrincipalId, roleIds[role])
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds[role])
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
      condition: delegationCondition
      conditionVersion: '2.0'
    }
  }
]
