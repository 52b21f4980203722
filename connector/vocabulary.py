"""The shared words of the domain: auth types and client types as the ServiceLinker API spells them, and the
resource provider the cluster extension belongs to."""

from enum import StrEnum

# The resource provider of cluster extensions: registered before sc-extension can be installed.
KUBERNETES_CONFIGURATION = "Microsoft.KubernetesConfiguration"


class AuthType(StrEnum):
    """`authInfo.authType` values of the ServiceLinker API (2022-05-01 and 2024-04-01)."""

    SECRET = "secret"
    SERVICE_PRINCIPAL_SECRET = "servicePrincipalSecret"
    # On AKS, userAssignedIdentity means workload identity (a federated credential on the identity).
    USER_ASSIGNED_IDENTITY = "userAssignedIdentity"
    # Accepted by the API but not supported with an AKS source: the validator refuses them clearly.
    SYSTEM_ASSIGNED_IDENTITY = "systemAssignedIdentity"
    SERVICE_PRINCIPAL_CERTIFICATE = "servicePrincipalCertificate"
    ACCESS_KEY = "accessKey"
    USER_ACCOUNT = "userAccount"


class ClientType(StrEnum):
    """`clientType` values of the ServiceLinker API."""

    NONE = "none"
    DOTNET = "dotnet"
    JAVA = "java"
    PYTHON = "python"
    GO = "go"
    PHP = "php"
    RUBY = "ruby"
    DJANGO = "django"
    NODEJS = "nodejs"
    SPRING_BOOT = "springBoot"
    KAFKA_SPRING_BOOT = "kafka-springBoot"
    JMS_SPRING_BOOT = "jms-springBoot"
    DAPR = "dapr"
