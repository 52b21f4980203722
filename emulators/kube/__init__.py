"""Kubernetes API emulator: many clusters behind one HTTPS port, driven by the real `kubernetes` client.

Each cluster lives under `https://127.0.0.1:P/clusters/{key}` (key `[a-z0-9-]+`) with its own bearer
token; use that URL as the client's `host`. Served: core/v1 namespaces, secrets, serviceaccounts,
configmaps, pods (+ `/log`, `/status`), events; batch/v1 jobs (+ `/status`);
secrets-store.csi.x-k8s.io/v1 secretproviderclasses; `/version` and API discovery (`/api`, `/apis`, the
resource lists: kubectl works against it). Verbs: create, get, list (label and field selectors,
limit/continue), replace, patch (JSON patch, merge, strategic merge, server-side apply), delete.
Errors are `Status` objects with the API server's reasons and messages.

Library use: `KubeEmulator(clock=None, ca=None).start()` → `.url`, `.ca_file`, `.cluster_info(key)`,
`.store`, `.stop()`. Process: `python -m emulators.kube --port P [--state seed.yaml] [--ca-file out.pem]`.

`POST /_emulator/reset` empties every cluster but keeps registrations and tokens valid.
Admin API (in addition to emulators.common's):
    POST /_emulator/clusters {"key"}    → {"server", "token", "caData" (base64 PEM)}; idempotent
    POST /_emulator/clusters/{key}/objects <object>    upsert as given (status kept); namespace must exist
    POST /_emulator/clusters/{key}/objects/delete {"apiVersion", "kind", "namespace", "name"}
    PUT  /_emulator/clusters/{key}/pods/{ns}/{name}/log[?container=c]   text body
    POST /_emulator/seed {"clusters": [{"key", "token"?, "objects": [...], "podLogs": [{namespace, pod,
         container?, text}]}]}
Client: `emulators.kube.link.KubeLink(admin_url, ca_file)` and `kubeconfig(key, cluster_info)`.
"""

from .emulator import KubeEmulator
from .link import KubeLink, kubeconfig, kubeconfig_yaml

__all__ = ["KubeEmulator", "KubeLink", "kubeconfig", "kubeconfig_yaml"]
