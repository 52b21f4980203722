"""The `aks-connector` commands: az aks connection's verbs, plus reconcile, diagnose, reset-extension and
operation show. Every command prints its result with -o/--query and exits 0 (done), 1 (failed), 2 (usage) or 3
(authentication or authorization)."""

from __future__ import annotations

import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Annotated, Any, cast

import typer
from rich.console import Console

from aks_connector import ids
from aks_connector.argv import pairs, rewrite
from aks_connector.bodies import AuthChoice, auth_info, linker_properties
from aks_connector.errors import EXIT_FAILED, EXIT_USAGE, CliError, usage_error
from aks_connector.http import Api
from aks_connector.output import OutputFormat, TableRows, render
from aks_connector.progress import watch
from aks_connector.redact import RedactingStream
from aks_connector.render import (
    check_rows,
    configuration_rows,
    diagnose_rows,
    linker_rows,
    operation_rows,
    print_diagnostics,
    print_error,
    support_rows,
)
from connector.targets import all_specs

# Where the product files its operation statuses (triggers/arm_format.py); the CLI does not import triggers.
OPERATION_LOCATION = "local"
INTERRUPTED_EXIT = 130  # the shell's code for Ctrl-C: the watch stopped, not the operation

app = typer.Typer(
    name="aks-connector",
    help="Operate the self-hosted Service Connector for AKS (verbs and flags as `az aks connection`).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
operation_app = typer.Typer(help="Long-running operations (create, update, delete, validate, reconcile...).")
app.add_typer(operation_app, name="operation")

# ---- options every command shares -------------------------------------------------------------------------
Output = Annotated[OutputFormat, typer.Option("--output", "-o", help="Output format.")]
Query = Annotated[str | None, typer.Option("--query", help="JMESPath query applied before output.")]
Endpoint = Annotated[
    str | None,
    typer.Option("--endpoint", help="The product's URL [env AKS_CONNECTOR_ENDPOINT; 127.0.0.1:7071]."),
]
Key = Annotated[str | None, typer.Option("--key", help="A function key [env AKS_CONNECTOR_KEY].")]
Scope = Annotated[
    str | None,
    typer.Option(
        "--scope", help="Entra scope (api://<app>/.default) for DefaultAzureCredential instead of a key."
    ),
]
NoWait = Annotated[bool, typer.Option("--no-wait", help="Do not wait for the operation to finish.")]
# ---- the connection and its cluster ----------------------------------------------------------------------
Connection = Annotated[str | None, typer.Option("--connection", help="Name of the connection.")]
ConnectionId = Annotated[str | None, typer.Option("--id", help="The connection's resource id.")]
SourceId = Annotated[str | None, typer.Option("--source-id", help="The AKS cluster's resource id.")]
ResourceGroup = Annotated[
    str | None, typer.Option("--resource-group", "-g", help="The cluster's resource group.")
]
Name = Annotated[str | None, typer.Option("--name", "-n", help="The cluster's name.")]
Subscription = Annotated[
    str | None, typer.Option("--subscription", help="Subscription of -g/-n [env AZURE_SUBSCRIPTION_ID].")
]
# ---- auth and settings, as create and update take them ---------------------------------------------------
SecretAuth = Annotated[bool, typer.Option("--secret", help="Secret auth: [name=<user> secret=<password>].")]
SecretPairs = Annotated[list[str] | None, typer.Option("--secret-pair", hidden=True)]
WorkloadIdentity = Annotated[
    str | None, typer.Option("--workload-identity", help="Workload identity: the identity's client id.")
]
ServicePrincipal = Annotated[
    bool, typer.Option("--service-principal", help="client-id=<id> object-id=<id> secret=<secret>.")
]
ServicePrincipalPairs = Annotated[list[str] | None, typer.Option("--service-principal-pair", hidden=True)]
CustomizedKeys = Annotated[
    list[str] | None, typer.Option("--customized-keys", "--customized-key", help="key=name pairs.")
]
VaultId = Annotated[str | None, typer.Option("--vault-id", help="Key Vault storing the secret.")]


@dataclass
class Context:
    """What a command needs to talk and print: the API and the two consoles."""

    api: Api
    out: Console
    err: Console
    output: OutputFormat
    query: str | None

    def show(self, data: Any, table_rows: TableRows | None = None) -> None:
        """Print a result."""
        render(self.out, data, self.output, self.query, table_rows)


_SECRETS: set[str] = set()  # values given on the command line that must never be printed


# A table piped to a file or another program is not cut to 80 columns (rich's default off a terminal).
PIPED_WIDTH = 240


def _consoles() -> tuple[Console, Console]:
    out_stream = RedactingStream(sys.stdout, _SECRETS)
    err_stream = RedactingStream(sys.stderr, _SECRETS)
    out = Console(
        file=cast(IO[str], out_stream), soft_wrap=True, width=None if out_stream.isatty() else PIPED_WIDTH
    )
    err = Console(
        file=cast(IO[str], err_stream),
        stderr=True,
        soft_wrap=True,
        width=None if err_stream.isatty() else PIPED_WIDTH,
    )
    return out, err


@contextmanager
def _command(
    endpoint: str | None, key: str | None, scope: str | None, output: OutputFormat, query: str | None
) -> Iterator[Context]:
    out, err = _consoles()
    try:
        yield Context(Api.from_options(endpoint, key, scope), out, err, output, query)
    except CliError as error:
        print_error(err, error.error)
        raise typer.Exit(error.exit_code) from None


def _operation_url(response_headers: Any) -> str:
    url = response_headers.header("Azure-AsyncOperation") or response_headers.header("Location")
    if not url:
        raise CliError({"code": "NoOperation", "message": "The API did not return an operation URL."})
    return str(url)


def _follow(ctx: Context, url: str, title: str) -> dict[str, Any]:
    """Watch an operation to its end; Ctrl-C stops watching and says how to resume. Failed raises CliError."""
    try:
        final = watch(ctx.api, url, ctx.err, title=title)
    except KeyboardInterrupt:
        ctx.err.print(
            "\nStopped watching; the operation goes on. Resume with:\n"
            f"  aks-connector wait --operation '{url}'",
            highlight=False,
        )
        raise typer.Exit(INTERRUPTED_EXIT) from None
    if final.get("status") == "Failed":
        raise CliError(final.get("error") or {"code": "OperationFailed", "message": "The operation failed."})
    if final.get("status") == "Canceled":
        raise CliError({"code": "Canceled", "message": "The operation was canceled before it finished."})
    return final


def _linker_path(linker: str) -> str:
    return urllib.parse.quote(linker)


# ---- create / update ---------------------------------------------------------------------------------------
TargetKind = Annotated[
    str, typer.Argument(help="The target kind (see list-support-types), e.g. storage-blob.")
]


def _auth_choice(
    secret: bool,
    secret_pair: list[str] | None,
    workload_identity: str | None,
    service_principal: bool,
    service_principal_pair: list[str] | None,
    enable_csi: bool,
) -> AuthChoice:
    return AuthChoice(
        secret=secret or bool(secret_pair),
        secret_pairs=pairs(secret_pair, "--secret"),
        workload_identity=workload_identity,
        service_principal=service_principal or bool(service_principal_pair),
        service_principal_pairs=pairs(service_principal_pair, "--service-principal"),
        enable_csi=enable_csi,
    )


def _put_and_follow(
    ctx: Context, method: str, linker: str, properties: dict[str, Any], no_wait: bool
) -> None:
    response = ctx.api.call(method, _linker_path(linker), {"properties": properties})
    url = _operation_url(response)
    if no_wait:
        ctx.show({**(response.body or {}), "operation": url}, linker_rows)
        return
    _follow(ctx, url, f"{method} {linker.rsplit('/', 1)[-1]}")
    ctx.show(ctx.api.call("GET", _linker_path(linker)).body, linker_rows)


@app.command()
def create(
    target_kind: TargetKind,
    connection: Connection = None,
    source_id: SourceId = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    subscription: Subscription = None,
    target_id: Annotated[str | None, typer.Option("--target-id", help="The target's resource id.")] = None,
    target_resource_group: Annotated[
        str | None, typer.Option("--target-resource-group", "--tg", help="The target's resource group.")
    ] = None,
    account: Annotated[str | None, typer.Option("--account", help="Storage/Cosmos/AI account name.")] = None,
    vault: Annotated[str | None, typer.Option("--vault", help="Key Vault name.")] = None,
    namespace: Annotated[
        str | None, typer.Option("--namespace", help="Service Bus/Event Hubs namespace.")
    ] = None,
    server: Annotated[str | None, typer.Option("--server", help="Database or Redis server name.")] = None,
    app_config: Annotated[str | None, typer.Option("--app-config", help="App Configuration name.")] = None,
    database: Annotated[str | None, typer.Option("--database", help="Database name.")] = None,
    secret: SecretAuth = False,
    secret_pair: SecretPairs = None,
    workload_identity: WorkloadIdentity = None,
    service_principal: ServicePrincipal = False,
    service_principal_pair: ServicePrincipalPairs = None,
    enable_csi: Annotated[
        bool, typer.Option("--enable-csi", help="Key Vault through the CSI driver.")
    ] = False,
    client_type: Annotated[str, typer.Option("--client-type", help="The workload's client type.")] = "none",
    kube_namespace: Annotated[
        str, typer.Option("--kube-namespace", help="Namespace the Secret is written to.")
    ] = "default",
    customized_key: CustomizedKeys = None,
    vault_id: VaultId = None,
    no_wait: NoWait = False,
    output: Output = OutputFormat.JSON,
    query: Query = None,
    endpoint: Endpoint = None,
    key: Key = None,
    scope: Scope = None,
) -> None:
    """Create a connection from an AKS cluster to a target service."""
    with _command(endpoint, key, scope, output, query) as ctx:
        spec = ids.target_spec(target_kind)
        if not connection:
            raise usage_error("Give --connection, the new connection's name.", "--connection")
        cluster, linker = ids.linker_id(None, connection, source_id, resource_group, name, subscription)
        target_name = account or vault or namespace or server or app_config
        target = ids.target_id(spec, target_id, cluster, target_resource_group, target_name, database)
        choice = _auth_choice(
            secret, secret_pair, workload_identity, service_principal, service_principal_pair, enable_csi
        )
        properties = linker_properties(
            target_id=target,
            auth=auth_info(choice, cluster.split("/")[2]),
            enable_csi=enable_csi,
            client_type=client_type,
            namespace=kube_namespace,
            customized_keys=pairs(customized_key, "--customized-keys"),
            vault_id=vault_id,
        )
        _put_and_follow(ctx, "PUT", linker, properties, no_wait)


@app.command()
def update(
    target_kind: TargetKind,
    connection: Connection = None,
    connection_id: ConnectionId = None,
    source_id: SourceId = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    subscription: Subscription = None,
    secret: SecretAuth = False,
    secret_pair: SecretPairs = None,
    workload_identity: WorkloadIdentity = None,
    service_principal: ServicePrincipal = False,
    service_principal_pair: ServicePrincipalPairs = None,
    client_type: Annotated[
        str | None, typer.Option("--client-type", help="The workload's client type.")
    ] = None,
    kube_namespace: Annotated[
        str | None, typer.Option("--kube-namespace", help="Move the Secret here.")
    ] = None,
    customized_key: CustomizedKeys = None,
    vault_id: VaultId = None,
    no_wait: NoWait = False,
    output: Output = OutputFormat.JSON,
    query: Query = None,
    endpoint: Endpoint = None,
    key: Key = None,
    scope: Scope = None,
) -> None:
    """Update a connection (PATCH: only what is given changes)."""
    with _command(endpoint, key, scope, output, query) as ctx:
        ids.target_spec(target_kind)
        cluster, linker = ids.linker_id(
            connection_id, connection, source_id, resource_group, name, subscription
        )
        choice = _auth_choice(
            secret, secret_pair, workload_identity, service_principal, service_principal_pair, False
        )
        properties = linker_properties(
            target_id=None,
            auth=auth_info(choice, cluster.split("/")[2]) if choice.given else None,
            client_type=client_type,
            namespace=kube_namespace,
            customized_keys=pairs(customized_key, "--customized-keys"),
            vault_id=vault_id,
        )
        if not properties:
            raise usage_error(
                "Nothing to update: give an auth flag, --client-type, --kube-namespace, ...", "update"
            )
        _put_and_follow(ctx, "PATCH", linker, properties, no_wait)


# ---- reads -------------------------------------------------------------------------------------------------
@app.command("list")
def list_connections(
    source_id: SourceId = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    subscription: Subscription = None,
    output: Output = OutputFormat.JSON,
    query: Query = None,
    endpoint: Endpoint = None,
    key: Key = None,
    scope: Scope = None,
) -> None:
    """List a cluster's connections (every page)."""
    with _command(endpoint, key, scope, output, query) as ctx:
        cluster = ids.source_id(source_id, resource_group, name, subscription)
        found: list[Any] = []
        url: str | None = _linker_path(f"{cluster}/providers/Microsoft.ServiceLinker/linkers")
        while url:
            page = ctx.api.call("GET", url).body or {}
            found.extend(page.get("value") or [])
            url = page.get("nextLink")
        ctx.show(found, linker_rows)


@app.command()
def show(
    connection: Connection = None,
    connection_id: ConnectionId = None,
    source_id: SourceId = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    subscription: Subscription = None,
    output: Output = OutputFormat.JSON,
    query: Query = None,
    endpoint: Endpoint = None,
    key: Key = None,
    scope: Scope = None,
) -> None:
    """Show a connection (`diagnose` shows why a failed one failed)."""
    with _command(endpoint, key, scope, output, query) as ctx:
        _, linker = ids.linker_id(connection_id, connection, source_id, resource_group, name, subscription)
        ctx.show(ctx.api.call("GET", _linker_path(linker)).body, linker_rows)


@app.command("list-configuration")
def list_configuration(
    connection: Connection = None,
    connection_id: ConnectionId = None,
    source_id: SourceId = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    subscription: Subscription = None,
    output: Output = OutputFormat.JSON,
    query: Query = None,
    endpoint: Endpoint = None,
    key: Key = None,
    scope: Scope = None,
) -> None:
    """The settings the connection's Secret holds (secret values are null)."""
    with _command(endpoint, key, scope, output, query) as ctx:
        _, linker = ids.linker_id(connection_id, connection, source_id, resource_group, name, subscription)
        body = ctx.api.call("POST", _linker_path(linker) + "/listConfigurations").body
        ctx.show(body, configuration_rows)


@app.command()
def validate(
    connection: Connection = None,
    connection_id: ConnectionId = None,
    source_id: SourceId = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    subscription: Subscription = None,
    output: Output = OutputFormat.TABLE,
    query: Query = None,
    endpoint: Endpoint = None,
    key: Key = None,
    scope: Scope = None,
) -> None:
    """Check the connection for real: target, cluster, extension, features, Secret, identity and role."""
    with _command(endpoint, key, scope, output, query) as ctx:
        _, linker = ids.linker_id(connection_id, connection, source_id, resource_group, name, subscription)
        response = ctx.api.call("POST", _linker_path(linker) + "/validateLinker")
        final = _follow(ctx, _operation_url(response), f"validate {linker.rsplit('/', 1)[-1]}")
        result = final.get("properties") or {}
        ctx.show(result, check_rows)
        if result.get("isConnectionAvailable") is False:
            raise typer.Exit(EXIT_FAILED)


@app.command("list-support-types")
def list_support_types(
    target_type: Annotated[
        str | None, typer.Option("--target-type", "-t", help="Only this target kind.")
    ] = None,
    output: Output = OutputFormat.TABLE,
    query: Query = None,
) -> None:
    """The target kinds, auth types and client types the connector supports (from its catalog)."""
    with _command(None, None, None, output, query) as ctx:
        specs = [s for s in all_specs() if target_type in (None, s.kind)]
        if target_type and not specs:
            ids.target_spec(target_type)
        data = [
            {
                "targetType": s.kind,
                "displayName": s.display_name,
                "authTypes": sorted(a.value for a in s.auth_types) + (["csi"] if s.supports_csi else []),
                "clientTypes": sorted(c.value for c in s.client_types),
            }
            for s in specs
        ]
        ctx.show(data, support_rows)


# ---- delete / wait -----------------------------------------------------------------------------------------
@app.command()
def delete(
    connection: Connection = None,
    connection_id: ConnectionId = None,
    source_id: SourceId = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    subscription: Subscription = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    force_cleanup: Annotated[
        bool,
        typer.Option("--force-cleanup", help="Also remove the Secret, identity trust and role it created."),
    ] = False,
    no_wait: NoWait = False,
    output: Output = OutputFormat.JSON,
    query: Query = None,
    endpoint: Endpoint = None,
    key: Key = None,
    scope: Scope = None,
) -> None:
    """Delete a connection; its Kubernetes resources stay unless --force-cleanup."""
    with _command(endpoint, key, scope, output, query) as ctx:
        _, linker = ids.linker_id(connection_id, connection, source_id, resource_group, name, subscription)
        if not yes:
            if not sys.stdin.isatty():
                raise usage_error("Deleting needs --yes when not run from a terminal.", "--yes")
            typer.confirm(f"Delete the connection {linker}?", abort=True)
        if force_cleanup:
            # The product reads ForcedCleanup from the connection, as Service Connector does: set it first.
            properties = linker_properties(
                target_id=None, auth=None, client_type=None, namespace=None, delete_behavior="ForcedCleanup"
            )
            patched = ctx.api.call("PATCH", _linker_path(linker), {"properties": properties})
            _follow(ctx, _operation_url(patched), "mark ForcedCleanup")
        response = ctx.api.call("DELETE", _linker_path(linker))
        if response.status == 204:
            ctx.show({"id": linker, "status": "NotFound"})
            return
        url = _operation_url(response)
        if no_wait:
            ctx.show({"id": linker, "operation": url, "status": "Deleting"})
            return
        final = _follow(ctx, url, f"delete {linker.rsplit('/', 1)[-1]}")
        ctx.show({"id": linker, "status": final.get("status"), "operation": url})


@app.command()
def wait(
    operation: Annotated[str | None, typer.Option("--operation", help="An operation's URL or id.")] = None,
    connection: Connection = None,
    connection_id: ConnectionId = None,
    source_id: SourceId = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    subscription: Subscription = None,
    deleted: Annotated[bool, typer.Option("--deleted", help="Wait until the connection is gone.")] = False,
    timeout: Annotated[int, typer.Option("--timeout", help="Give up after this many seconds.")] = 3600,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between checks.")] = 2.0,
    output: Output = OutputFormat.JSON,
    query: Query = None,
    endpoint: Endpoint = None,
    key: Key = None,
    scope: Scope = None,
) -> None:
    """Wait for an operation, or for a connection to settle (Succeeded, Failed) or be --deleted."""
    with _command(endpoint, key, scope, output, query) as ctx:
        if operation:
            url = _operation_reference(operation, subscription)
            ctx.show(_follow(ctx, url, "operation"), operation_rows)
            return
        _, linker = ids.linker_id(connection_id, connection, source_id, resource_group, name, subscription)
        deadline = time.monotonic() + timeout
        while True:
            response = ctx.api.send("GET", _linker_path(linker))
            if deleted and response.status == 404:
                ctx.show({"id": linker, "status": "Deleted"})
                return
            if response.status >= 400 and response.status != 404:
                ctx.api.call("GET", _linker_path(linker))  # raises the error
            state = ((response.body or {}).get("properties") or {}).get("provisioningState")
            if not deleted and state in ("Succeeded", "Failed", "Canceled"):
                ctx.show(response.body, linker_rows)
                if state != "Succeeded":
                    raise typer.Exit(EXIT_FAILED)
                return
            if time.monotonic() > deadline:
                raise CliError(
                    {"code": "WaitTimedOut", "message": f"{linker} did not settle in {timeout} s."}
                )
            time.sleep(interval)


def _operation_reference(operation: str, subscription: str | None) -> str:
    if operation.startswith(("http://", "https://", "/subscriptions/")):
        return operation
    sub = ids.subscription(subscription)
    location = f"/subscriptions/{sub}/providers/Microsoft.ServiceLinker/locations/{OPERATION_LOCATION}"
    return f"{location}/operationStatuses/{operation}"


# ---- the product's own verbs -------------------------------------------------------------------------------
@app.command()
def reconcile(
    no_wait: NoWait = False,
    output: Output = OutputFormat.JSON,
    query: Query = None,
    endpoint: Endpoint = None,
    key: Key = None,
    scope: Scope = None,
) -> None:
    """Reconcile every connection now (or join the reconciliation already running) and report drift."""
    with _command(endpoint, key, scope, output, query) as ctx:
        response = ctx.api.call("POST", "/api/reconcile", api_version=None)
        url = _operation_url(response)
        if no_wait:
            ctx.show({**(response.body or {}), "operation": url})
            return
        ctx.show(_follow(ctx, url, "reconcile"), operation_rows)


@app.command()
def diagnose(
    source_id: SourceId = None,
    collect: Annotated[
        bool, typer.Option("--collect/--registry-only", help="Also read the cluster now (extension, sc-job).")
    ] = True,
    resource_group: ResourceGroup = None,
    name: Name = None,
    subscription: Subscription = None,
    output: Output = OutputFormat.TABLE,
    query: Query = None,
    endpoint: Endpoint = None,
    key: Key = None,
    scope: Scope = None,
) -> None:
    """A cluster's connections with their states, last errors and mitigations, and what the cluster shows now:
    sc-extension's state and statuses, the sc-job status and its log tail."""
    with _command(endpoint, key, scope, output, query) as ctx:
        cluster = ids.source_id(source_id, resource_group, name, subscription)
        path = _linker_path(f"{cluster}/providers/Microsoft.ServiceLinker/diagnostics")
        body = ctx.api.call("GET", path + ("?collect=true" if collect else "")).body
        ctx.show(body, diagnose_rows)
        if output is OutputFormat.TABLE and not query:
            print_diagnostics(ctx.out, body or {})


@app.command("reset-extension")
def reset_extension(
    source_id: SourceId = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    subscription: Subscription = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    no_wait: NoWait = False,
    output: Output = OutputFormat.JSON,
    query: Query = None,
    endpoint: Endpoint = None,
    key: Key = None,
    scope: Scope = None,
) -> None:
    """Delete and reinstall sc-extension on the cluster, then re-apply its connections."""
    with _command(endpoint, key, scope, output, query) as ctx:
        cluster = ids.source_id(source_id, resource_group, name, subscription)
        if not yes:
            if not sys.stdin.isatty():
                raise usage_error(
                    "Resetting the extension needs --yes when not run from a terminal.", "--yes"
                )
            typer.confirm(f"Reinstall sc-extension on {cluster}?", abort=True)
        path = _linker_path(f"{cluster}/providers/Microsoft.ServiceLinker/resetExtension")
        url = _operation_url(ctx.api.call("POST", path))
        if no_wait:
            ctx.show({"clusterId": cluster, "operation": url, "status": "Accepted"})
            return
        ctx.show(_follow(ctx, url, "reset-extension"), operation_rows)


@operation_app.command("show")
def operation_show(
    operation: Annotated[str, typer.Argument(help="The operation's URL (Azure-AsyncOperation) or id.")],
    subscription: Subscription = None,
    output: Output = OutputFormat.JSON,
    query: Query = None,
    endpoint: Endpoint = None,
    key: Key = None,
    scope: Scope = None,
) -> None:
    """An operation's status: its steps with times and attempts, what it waits for, its error."""
    with _command(endpoint, key, scope, output, query) as ctx:
        body = ctx.api.call("GET", _operation_reference(operation, subscription)).body
        ctx.show(body, operation_rows)


def main(argv: list[str] | None = None) -> None:
    """The console script: rewrite az's multi-value flags, then run the typer app."""
    rewritten = rewrite(list(sys.argv[1:] if argv is None else argv))
    _SECRETS.update(rewritten.secrets)
    command: Callable[..., Any] = typer.main.get_command(app)
    try:
        command(rewritten.args, prog_name="aks-connector", standalone_mode=True)
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (EXIT_USAGE if done.code else 0)
        sys.exit(code)
