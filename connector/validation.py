"""Request validation: the ARM-style 400 error and the small checks every request goes through.

A request that fails here ends with `{"error": {"code", "message", "target", "details": [...]}}` and nothing
is written anywhere. `target` is the JSON path of the offending field (for example
`properties.authInfo.clientId`), or the name of the URL part (`linkerId`, `api-version`) when the mistake is
in the URL. When a request has several problems, the top-level code and message are those of the first one
and `details` lists every problem (the first included), so a client can fix them all in one round.

Stable error codes (clients may switch on them; never rename one):

| Code                          | Meaning                                                                    |
|-------------------------------|----------------------------------------------------------------------------|
| InvalidRequestBody            | The body is not a JSON object, a field has the wrong JSON type, or a      |
|                               | field is not supported by this connector or this api-version               |
| InvalidRequestContent         | The body exceeds a parsing limit (size, nesting depth, element count)     |
| MissingRequiredField          | A required field is absent, null or empty                                  |
| InvalidFieldValue             | A field has a value outside its allowed set or format (GUID, enum, ...)    |
| UnsupportedApiVersion         | The api-version is not one of 2022-05-01, 2024-04-01                       |
| InvalidSourceResourceId       | The linker's source is not a managedCluster ARM id (a GUID subscription,  |
|                               | a valid resource group name, a valid AKS cluster name)                     |
| InvalidLinkerName             | The linker name breaks the ServiceLinker naming rules                      |
| InvalidNamespace              | `scope` is not a DNS-1123 label (a Kubernetes namespace name)              |
| InvalidTargetResourceId       | `targetService.id` is not a well-formed ARM resource id                    |
| UnsupportedTarget             | The target id is well formed but no supported target matches it, or the   |
|                               | target service type / resource properties do not fit the target           |
| UnsupportedAuthType           | The auth type is unknown or not supported for this target on AKS          |
| UnsupportedSecretType         | `secretInfo.secretType` is unknown or not usable with an AKS source        |
| UnknownClientType             | `clientType` is not a ServiceLinker client type                            |
| UnsupportedClientType         | A known client type that the target's catalog entry does not support       |
| InvalidCustomizedKey          | A customized key renames an unknown key, or to an invalid, reserved or     |
|                               | duplicate environment variable name                                        |
| InvalidKubernetesName         | A generated Kubernetes name would not be a valid DNS-1123 name             |
| SecretNameCollision           | Two linkers would write the same Secret in one namespace                   |
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

INVALID_REQUEST_BODY = "InvalidRequestBody"
INVALID_REQUEST_CONTENT = "InvalidRequestContent"
MISSING_REQUIRED_FIELD = "MissingRequiredField"
INVALID_FIELD_VALUE = "InvalidFieldValue"
UNSUPPORTED_API_VERSION = "UnsupportedApiVersion"
INVALID_SOURCE_RESOURCE_ID = "InvalidSourceResourceId"
INVALID_LINKER_NAME = "InvalidLinkerName"
INVALID_NAMESPACE = "InvalidNamespace"
INVALID_TARGET_RESOURCE_ID = "InvalidTargetResourceId"
UNSUPPORTED_TARGET = "UnsupportedTarget"
UNSUPPORTED_AUTH_TYPE = "UnsupportedAuthType"
UNSUPPORTED_SECRET_TYPE = "UnsupportedSecretType"
UNKNOWN_CLIENT_TYPE = "UnknownClientType"
UNSUPPORTED_CLIENT_TYPE = "UnsupportedClientType"
INVALID_CUSTOMIZED_KEY = "InvalidCustomizedKey"
INVALID_KUBERNETES_NAME = "InvalidKubernetesName"
SECRET_NAME_COLLISION = "SecretNameCollision"

ALL_CODES = frozenset(
    {
        INVALID_REQUEST_BODY,
        INVALID_REQUEST_CONTENT,
        MISSING_REQUIRED_FIELD,
        INVALID_FIELD_VALUE,
        UNSUPPORTED_API_VERSION,
        INVALID_SOURCE_RESOURCE_ID,
        INVALID_LINKER_NAME,
        INVALID_NAMESPACE,
        INVALID_TARGET_RESOURCE_ID,
        UNSUPPORTED_TARGET,
        UNSUPPORTED_AUTH_TYPE,
        UNSUPPORTED_SECRET_TYPE,
        UNKNOWN_CLIENT_TYPE,
        UNSUPPORTED_CLIENT_TYPE,
        INVALID_CUSTOMIZED_KEY,
        INVALID_KUBERNETES_NAME,
        SECRET_NAME_COLLISION,
    }
)

# Echoed user input is cut so an error body stays small whatever the request carried.
_MAX_ECHO = 120


@dataclass(frozen=True)
class Problem:
    """One mistake in a request: a stable code, a message for humans, the JSON path of the field."""

    code: str
    message: str
    target: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ARM error-detail shape of this problem."""
        return {"code": self.code, "message": self.message, "target": self.target, "details": []}


class RequestValidationError(Exception):
    """A request that cannot be accepted; `to_arm_body()` is the 400 response body."""

    def __init__(
        self, code: str, message: str, target: str | None = None, details: Sequence[Problem] = ()
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.target = target
        self.details: tuple[Problem, ...] = tuple(details) or (Problem(code, message, target),)

    @classmethod
    def from_problems(cls, problems: Sequence[Problem]) -> RequestValidationError:
        """One error naming the first problem, with every problem in `details`."""
        if not problems:
            raise ValueError("from_problems needs at least one problem")
        first = problems[0]
        message = first.message
        if len(problems) > 1:
            message = f"{first.message} (and {len(problems) - 1} more problem(s), see details)"
        return cls(first.code, message, first.target, problems)

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Every problem found, in the order they were found."""
        return self.details

    def to_arm_body(self) -> dict[str, Any]:
        """The ARM error response: `{"error": {"code", "message", "target", "details": [...]}}`."""
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "target": self.target,
                "details": [problem.to_dict() for problem in self.details],
            }
        }


def echo(value: object) -> str:
    """A short, safe rendering of user input for an error message (never used for secret fields)."""
    text = value if isinstance(value, str) else type(value).__name__
    return repr(text if len(text) <= _MAX_ECHO else text[:_MAX_ECHO] + "...")


class ProblemList:
    """Collects problems while a request is read, then raises them all at once."""

    def __init__(self) -> None:
        self._problems: list[Problem] = []

    def add(self, code: str, message: str, target: str | None) -> None:
        """Record one problem."""
        self._problems.append(Problem(code, message, target))

    def extend(self, problems: Iterable[Problem]) -> None:
        """Record several problems."""
        self._problems.extend(problems)

    def __bool__(self) -> bool:
        return bool(self._problems)

    def raise_if_any(self) -> None:
        """Raise a RequestValidationError carrying every recorded problem, if there is any."""
        if self._problems:
            raise RequestValidationError.from_problems(self._problems)

    def fail(self, code: str, message: str, target: str | None) -> NoReturn:
        """Record one last problem and raise them all: reading cannot go on."""
        self.add(code, message, target)
        raise RequestValidationError.from_problems(self._problems)


# --- Names -----------------------------------------------------------------------------------------------

# The Azure CLI refuses other characters in a connection name ("Resource name can only contain letters
# (A-Z, a-z), numbers (0-9), periods ('.'), and underscores ('_')": azure-cli serviceconnector
# _validators.validate_connection_name); the RP refuses '-' (azure-cli#30268). The REST spec sets no pattern.
LINKER_NAME_PATTERN = re.compile(r"[A-Za-z0-9._]+")
# The spec sets no length either. The Secret `sc-<alphanumerics>-secret` must stay a 253-char DNS subdomain,
# which leaves 243 characters for the name.
MAX_LINKER_NAME_LENGTH = 243

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_ENV_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_ENV_VAR_NAME_LENGTH = 253  # a Secret data key is at most 253 characters


def is_dns1123_label(value: str) -> bool:
    """True if `value` is a DNS-1123 label (Kubernetes namespace names): <= 63 chars, [a-z0-9-]."""
    return len(value) <= 63 and _DNS1123_LABEL.fullmatch(value) is not None


def is_dns1123_subdomain(value: str) -> bool:
    """True if `value` is a DNS-1123 subdomain (Secret, ServiceAccount names): <= 253 chars."""
    if not value or len(value) > 253:
        return False
    return all(_DNS1123_LABEL.fullmatch(part) is not None for part in value.split("."))


def is_env_var_name(value: str) -> bool:
    """True if `value` can be an environment variable name and a Secret data key."""
    return len(value) <= MAX_ENV_VAR_NAME_LENGTH and _ENV_VAR_NAME.fullmatch(value) is not None


def is_guid(value: str) -> bool:
    """True if `value` is a GUID in the 8-4-4-4-12 form ARM uses for client and subscription ids."""
    if len(value) != 36 or value.count("-") != 4:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def linker_name_problems(name: str, target: str = "name") -> list[Problem]:
    """What is wrong with a linker name, if anything."""
    if not name:
        return [Problem(MISSING_REQUIRED_FIELD, "The linker name is empty.", target)]
    if len(name) > MAX_LINKER_NAME_LENGTH:
        return [
            Problem(
                INVALID_LINKER_NAME,
                f"The linker name is {len(name)} characters long; "
                f"at most {MAX_LINKER_NAME_LENGTH} are allowed.",
                target,
            )
        ]
    if LINKER_NAME_PATTERN.fullmatch(name) is None:
        hint = " Use '_' instead of '-'." if "-" in name else ""
        return [
            Problem(
                INVALID_LINKER_NAME,
                f"The linker name {echo(name)} may contain only letters (A-Z, a-z), digits (0-9), "
                "periods ('.') "
                f"and underscores ('_').{hint}",
                target,
            )
        ]
    if not any(ch.isalnum() for ch in name):
        return [
            Problem(
                INVALID_LINKER_NAME,
                f"The linker name {echo(name)} needs at least one letter or digit: the Kubernetes Secret is "
                "named after its letters and digits.",
                target,
            )
        ]
    return []


def namespace_problems(namespace: str, target: str = "properties.scope") -> list[Problem]:
    """What is wrong with a Kubernetes namespace name, if anything."""
    if is_dns1123_label(namespace):
        return []
    return [
        Problem(
            INVALID_NAMESPACE,
            f"The namespace {echo(namespace)} is not a valid Kubernetes namespace name: "
            "use at most 63 lower-case "
            "letters, digits and '-', starting and ending with a letter or digit.",
            target,
        )
    ]


# ARM's rules for resource group names: 1-90 letters or digits (Unicode), '_', '-', '.', '(' and ')', not
# ending in '.'. AKS's for cluster names: 1-63 ASCII letters, digits, '_' and '-', starting and ending with
# a letter or digit. A name outside them can name no real resource, so a request carrying one is refused
# before anything is read or written (an ARM call with such a name is at best a 404, at worst a traversal).
_RESOURCE_GROUP_NAME = re.compile(r"[-\w.()]{1,90}")
_CLUSTER_NAME = re.compile(r"[A-Za-z0-9](?:[-_A-Za-z0-9]{0,61}[A-Za-z0-9])?")


def subscription_problems(subscription: str, target: str = "subscriptionId") -> list[Problem]:
    """What is wrong with a subscription id (it must be a GUID), if anything."""
    if is_guid(subscription):
        return []
    return [
        Problem(INVALID_SOURCE_RESOURCE_ID, f"The subscription {echo(subscription)} is not a GUID.", target)
    ]


def resource_group_problems(name: str, target: str = "resourceGroupName") -> list[Problem]:
    """What is wrong with a resource group name under ARM's naming rules, if anything."""
    if _RESOURCE_GROUP_NAME.fullmatch(name) is not None and not name.endswith("."):
        return []
    return [
        Problem(
            INVALID_SOURCE_RESOURCE_ID,
            f"The resource group name {echo(name)} is invalid: use 1-90 letters, digits, '_', '-', '.', '(' "
            "and ')', not ending in '.'.",
            target,
        )
    ]


def cluster_name_problems(name: str, target: str = "clusterName") -> list[Problem]:
    """What is wrong with an AKS cluster name under AKS's naming rules, if anything."""
    if _CLUSTER_NAME.fullmatch(name) is not None:
        return []
    return [
        Problem(
            INVALID_SOURCE_RESOURCE_ID,
            f"The cluster name {echo(name)} is invalid: use 1-63 letters, digits, '_' and '-', starting and "
            "ending with a letter or digit.",
            target,
        )
    ]


# --- Environment variable names a connection may not write -----------------------------------------------

# A connection's Secret reaches workloads through `envFrom`, so every key becomes an environment variable of
# every container that mounts it. A customized key must not take the name of a variable that a process,
# its runtime or the platform relies on: PATH or LD_PRELOAD would let whoever writes a linker run code in
# the workload; JAVA_TOOL_OPTIONS, NODE_OPTIONS, PYTHON*, DOTNET_STARTUP_HOOKS and profiler variables load
# code at start-up; proxy and CA variables redirect or intercept traffic; KUBERNETES_* and the variables
# the workload identity webhook injects (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE,
# AZURE_AUTHORITY_HOST) would point the workload at another API server or identity. Compared without case:
# Windows containers treat Path and PATH as one.
RESERVED_ENV_NAMES = frozenset(
    {
        # POSIX and shells
        "PATH",
        "HOME",
        "USER",
        "USERNAME",
        "LOGNAME",
        "SHELL",
        "PWD",
        "OLDPWD",
        "HOSTNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "TMP",
        "TEMP",
        "TERM",
        "IFS",
        "ENV",
        "BASH_ENV",
        "CDPATH",
        "PS4",
        "PROMPT_COMMAND",
        "GLIBC_TUNABLES",
        "GCONV_PATH",
        "HOSTALIASES",
        "RESOLV_HOST_CONF",
        "LOCALDOMAIN",
        # runtimes that load code or options from the environment
        "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS",
        "JDK_JAVA_OPTIONS",
        "JAVA_OPTS",
        "JAVA_HOME",
        "CLASSPATH",
        "NODE_OPTIONS",
        "NODE_PATH",
        "NODE_EXTRA_CA_CERTS",
        "NODE_TLS_REJECT_UNAUTHORIZED",
        "PERL5LIB",
        "PERL5OPT",
        "PERLLIB",
        "RUBYOPT",
        "RUBYLIB",
        "GEM_HOME",
        "GEM_PATH",
        "GODEBUG",
        "GOFLAGS",
        "CORECLR_ENABLE_PROFILING",
        "CORECLR_PROFILER",
        "CORECLR_PROFILER_PATH",
        # traffic and trust
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        # set by the workload identity webhook
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_AUTHORITY_HOST",
    }
)
RESERVED_ENV_PREFIXES = ("LC_", "LD_", "DYLD_", "PYTHON", "DOTNET_", "COMPLUS_", "CORECLR_", "KUBERNETES_")


def reserved_env_name(name: str) -> bool:
    """True if `name` would shadow an environment variable a process or the platform relies on."""
    upper = name.upper()
    return upper in RESERVED_ENV_NAMES or upper.startswith(RESERVED_ENV_PREFIXES)
