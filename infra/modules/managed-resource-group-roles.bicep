// The roles the connector's identity holds on one managed resource group of ALLOWED_SCOPES (README role table:
// "Each scope in ALLOWED_SCOPES"). Provider registration is a subscription-level action: a resource-group scope
// does not get it (register Microsoft.KubernetesConfiguration once yourself, or add the subscription).
targetScope = 'resourceGroup'

param appPrincipalId string
param createMissingNamespace bool
param targetReaderRoleId string

var roleIds = union(loadJsonContent('../built-in-roles.json'), {
  'AKS Service Connector target reader': targetReaderRoleId
})
// Creating a missing namespace needs cluster-wide rights; writing Secrets and ServiceAccounts does not.
var kubernetesDataRole = createMissingNamespace ? 'Azure Kubernetes Service RBAC Cluster Admin' : 'Azure Kubernetes Service RBAC Writer'
var scopeRoles = [
  'Azure Kubernetes Service Contributor Role'
  'Kubernetes Extension Contributor'
  'Azure Kubernetes Service Cluster User Role'
  kubernetesDataRole
  'Managed Identity Contributor'
  'AKS Service Connector target reader'
]

resource scopeGrants 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in scopeRoles: {
    name: guid(resourceGroup().id, appPrincipalId, roleIds[role])
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
    name: guid(resourceGroup().id, appPrincipalId, roleIds[role])
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds[role])
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
      condition: delegationCondition
      conditionVersion: '2.0'
    }
  }
]
