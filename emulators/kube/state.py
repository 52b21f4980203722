"""The clusters and their objects: every read and write, with the API server's invariants."""

from __future__ import annotations

import base64
import copy
import json
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from emulators.common import Clock

from . import errors, managed
from .errors import KubeError, bad_request
from .kinds import JOB, NAMESPACE, POD, SECRET, Kind, kind_of
from .patching import json_patch, merge_patch, strategic_merge_patch
from .selectors import field_matcher, label_matcher
from .validation import ensure_valid, normalize_secret, require_object

Key = tuple[str, str, str]  # (resource, namespace or "", name)
_RETURN_OBJECT_ON_DELETE = (NAMESPACE, POD, JOB)
# Every real cluster (AKS included) starts with these; the API server creates them.
BUILT_IN_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
_UNDELETABLE_NAMESPACES = ("default", "kube-public", "kube-system")
_IDENTITY_METADATA = (
    "uid",
    "creationTimestamp",
    "resourceVersion",
    "generation",
    "managedFields",
    "deletionTimestamp",
)
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


@dataclass
class Cluster:
    """One emulated cluster: its token, objects and pod logs."""

    key: str
    token: str
    # Entra-integrated cluster settings (emulators/kube/entra.py); None: local accounts only.
    entra: dict[str, Any] | None = None
    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    logs: dict[tuple[str, str, str], str] = field(default_factory=dict)


def _key(kind: Kind, namespace: str, name: str) -> Key:
    return (kind.resource, namespace if kind.namespaced else "", name)


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    elif not isinstance(meta, dict):
        raise bad_request("metadata must be an object")
    return meta


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """The object minus what a write always touches, to detect no-op writes."""
    view = copy.deepcopy(obj)
    meta = view.get("metadata") or {}
    meta.pop("resourceVersion", None)
    meta["managedFields"] = managed.strip_times(meta.get("managedFields"))
    return view


def _spec_view(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


class KubeStore:
    """All clusters of one emulator process. Thread-safe; returns deep copies."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.clusters: dict[str, Cluster] = {}
        self._rv = 0
        self._lock = threading.RLock()

    # ----- clusters -----
    def reset(self) -> None:
        """Empty every cluster. Registrations and tokens stay, so kubeconfigs handed out (by the ARM emulator,
        say) keep working; the resourceVersion counter keeps counting, as etcd's would."""
        with self._lock:
            for cluster in self.clusters.values():
                cluster.objects.clear()
                cluster.logs.clear()
                self._bootstrap(cluster)

    def register(
        self, key: str, token: str | None = None, entra: dict[str, Any] | bool | None = False
    ) -> Cluster:
        """The cluster `key`, created with a fresh token if new (idempotent).

        `entra`, unless False, replaces its Entra settings (None: a local-accounts cluster).
        """
        with self._lock:
            cluster = self.clusters.get(key)
            if cluster is None:
                cluster = self.clusters[key] = Cluster(key, token or secrets.token_urlsafe(24))
                self._bootstrap(cluster)
            elif token is not None:
                cluster.token = token
            if entra is not False:
                cluster.entra = entra if isinstance(entra, dict) else None
            return cluster

    def _bootstrap(self, cluster: Cluster) -> None:
        for name in BUILT_IN_NAMESPACES:
            self.create(cluster, NAMESPACE, "", {"metadata": {"name": name}}, "kube-apiserver")

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    # ----- reads -----
    def get(self, cluster: Cluster, kind: Kind, namespace: str, name: str) -> dict[str, Any]:
        """One object, or 404."""
        with self._lock:
            obj = cluster.objects.get(_key(kind, namespace, name))
            if obj is None:
                raise errors.not_found(kind, name)
            return copy.deepcopy(obj)

    def list(
        self,
        cluster: Cluster,
        kind: Kind,
        namespace: str | None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> dict[str, Any]:
        """A `<Kind>List` body, filtered and optionally paged."""
        labels_ok = label_matcher(label_selector)
        fields_ok = field_matcher(kind, field_selector)
        start_after = _decode_continue(continue_token)
        with self._lock:
            matching = [
                obj
                for (resource, ns, name), obj in sorted(cluster.objects.items())
                if resource == kind.resource
                and (namespace is None or ns == namespace)
                and (start_after is None or (ns, name) > start_after)
                and labels_ok(obj)
                and fields_ok(obj)
            ]
            list_meta: dict[str, Any] = {"resourceVersion": str(self._rv)}
            if limit and len(matching) > limit:
                last = matching[limit - 1]["metadata"]
                list_meta["continue"] = _encode_continue(last.get("namespace", ""), last["name"])
                list_meta["remainingItemCount"] = len(matching) - limit
                matching = matching[:limit]
            items = []
            for obj in matching:
                item = copy.deepcopy(obj)
                item.pop("apiVersion", None)
                item.pop("kind", None)
                items.append(item)
        return {"kind": kind.list_kind, "apiVersion": kind.api_version, "metadata": list_meta, "items": items}

    # ----- writes -----
    def create(self, cluster: Cluster, kind: Kind, namespace: str, body: Any, manager: str) -> dict[str, Any]:
        """POST: a new object (409 AlreadyExists, 404 for a missing namespace, 422 Invalid)."""
        obj = copy.deepcopy(require_object(body))
        self._check_identity(kind, obj, namespace)
        meta = _meta(obj)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + secrets.token_hex(3)[:5]
        with self._lock:
            self._prepare(kind, obj, namespace)
            ensure_valid(kind, obj, None)
            self._require_namespace(cluster, kind, namespace)
            name = meta["name"]
            if _key(kind, namespace, name) in cluster.objects:
                raise errors.already_exists(kind, name)
            managed.record_update(None, obj, manager, kind.api_version, self.clock.timestamp())
            return self._store_new(cluster, kind, obj, keep_status=False)

    def replace(
        self, cluster: Cluster, kind: Kind, namespace: str, name: str, body: Any, manager: str
    ) -> dict[str, Any]:
        """PUT: replace an existing object; a stale `metadata.resourceVersion` gets 409 Conflict."""
        obj = copy.deepcopy(require_object(body))
        self._check_identity(kind, obj, namespace, name)
        with self._lock:
            current = self.get(cluster, kind, namespace, name)
            self._prepare(kind, obj, namespace)
            _meta(obj).pop("managedFields", None)
            managed.record_update(current, obj, manager, kind.api_version, self.clock.timestamp())
            return self._commit_update(cluster, kind, current, obj)

    def patch(
        self,
        cluster: Cluster,
        kind: Kind,
        namespace: str,
        name: str,
        content_type: str,
        body: Any,
        manager: str | None,
        force: bool,
    ) -> tuple[dict[str, Any], bool]:
        """PATCH in any of the four formats; returns (object, created). Apply creates a missing object."""
        if content_type == APPLY:
            return self._apply(cluster, kind, namespace, name, body, manager, force)
        if force:
            raise errors.invalid(
                "PatchOptions",
                "",
                [errors.Cause.forbidden("force", "may not be specified for non-apply patch")],
                "meta.k8s.io",
            )
        if kind.custom and content_type == STRATEGIC:
            raise errors.unsupported_media_type([JSON_PATCH, MERGE, APPLY])
        with self._lock:
            current = self.get(cluster, kind, namespace, name)
            if content_type == JSON_PATCH:
                patched = json_patch(current, body)
            elif content_type == MERGE:
                patched = merge_patch(current, require_object(body))
            else:
                patched = strategic_merge_patch(current, require_object(body))
            patched = require_object(patched)
            self._check_identity(kind, patched, namespace, name)
            patched_meta = _meta(patched)
            # A resourceVersion the patch left alone is no precondition; one it set is (and may conflict).
            if patched_meta.get("resourceVersion") == current["metadata"]["resourceVersion"]:
                patched_meta.pop("resourceVersion")
            patched_meta.pop("managedFields", None)
            self._prepare(kind, patched, namespace)
            managed.record_update(
                current, patched, manager or "unknown", kind.api_version, self.clock.timestamp()
            )
            return self._commit_update(cluster, kind, current, patched), False

    def _apply(
        self,
        cluster: Cluster,
        kind: Kind,
        namespace: str,
        name: str,
        body: Any,
        manager: str | None,
        force: bool,
    ) -> tuple[dict[str, Any], bool]:
        if not manager:
            raise errors.invalid(
                "PatchOptions",
                "",
                [errors.Cause.required("fieldManager", "is required for apply patch")],
                "meta.k8s.io",
            )
        config = copy.deepcopy(require_object(body))
        if not config.get("kind") or not config.get("apiVersion"):
            # The real server quotes the whole body here; it may hold secret data, so this one does not.
            missing = "Kind" if not config.get("kind") else "apiVersion"
            raise bad_request(f"Object '{missing}' is missing in the apply configuration")
        self._check_identity(kind, config, namespace, name)
        config_meta = _meta(config)
        for meta_key in ("managedFields", "uid", "creationTimestamp", "generation"):
            config_meta.pop(meta_key, None)
        if kind is SECRET:
            normalize_secret(config)
            if config.get("type") == "Opaque" and "type" not in (body or {}):
                config.pop("type")  # defaulted, not set by this manager
        with self._lock:
            key = _key(kind, namespace, name)
            live = cluster.objects.get(key)
            precondition = config_meta.pop("resourceVersion", None)
            if (
                live is not None
                and precondition is not None
                and precondition != live["metadata"]["resourceVersion"]
            ):
                raise errors.conflict(kind, name)
            merged = managed.apply(
                kind,
                name,
                copy.deepcopy(live) if live else None,
                config,
                manager,
                force,
                self.clock.timestamp(),
            )
            self._prepare(kind, merged, namespace)
            if live is None:
                ensure_valid(kind, merged, None)
                self._require_namespace(cluster, kind, namespace)
                return self._store_new(cluster, kind, merged, keep_status=False), True
            return self._commit_update(cluster, kind, copy.deepcopy(live), merged), False

    def delete(
        self,
        cluster: Cluster,
        kind: Kind,
        namespace: str,
        name: str,
        preconditions: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """DELETE: 404 when absent; a namespace takes its objects with it. Returns the response body."""
        with self._lock:
            key = _key(kind, namespace, name)
            current = cluster.objects.get(key)
            if current is None:
                raise errors.not_found(kind, name)
            self._check_preconditions(kind, current, preconditions or {})
            if kind is NAMESPACE and name in _UNDELETABLE_NAMESPACES:
                raise errors.forbidden(
                    f'namespaces "{name}" is forbidden: this namespace may not be deleted', kind, name
                )
            del cluster.objects[key]
            if kind is NAMESPACE:
                for other in [k for k in cluster.objects if k[1] == name]:
                    del cluster.objects[other]
                cluster.logs = {k: v for k, v in cluster.logs.items() if k[0] != name}
            if kind is POD:
                cluster.logs = {k: v for k, v in cluster.logs.items() if k[:2] != (namespace, name)}
        if kind in _RETURN_OBJECT_ON_DELETE:
            gone = copy.deepcopy(current)
            gone["metadata"]["deletionTimestamp"] = self.clock.timestamp()
            if kind is NAMESPACE:
                gone.setdefault("status", {})["phase"] = "Terminating"
            return gone
        details: dict[str, Any] = {"name": name}
        if kind.group:
            details["group"] = kind.group
        details.update({"kind": kind.plural, "uid": current["metadata"]["uid"]})
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    # ----- admin -----
    def upsert(self, cluster: Cluster, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace an object as given, status included (the admin API's seeding path)."""
        kind = kind_of(str(obj.get("apiVersion")), str(obj.get("kind")))
        if kind is None:
            raise bad_request(
                f"kind {obj.get('apiVersion')}/{obj.get('kind')} is not served by this emulator"
            )
        obj = copy.deepcopy(obj)
        namespace = str(_meta(obj).get("namespace") or ("default" if kind.namespaced else ""))
        with self._lock:
            self._prepare(kind, obj, namespace)
            for meta_key in _IDENTITY_METADATA:
                _meta(obj).pop(meta_key, None)
            ensure_valid(kind, obj, None)
            self._require_namespace(cluster, kind, namespace)
            current = cluster.objects.get(_key(kind, namespace, obj["metadata"]["name"]))
            managed.record_update(current, obj, "emulator-admin", kind.api_version, self.clock.timestamp())
            if current is None:
                return self._store_new(cluster, kind, obj, keep_status=True)
            obj.setdefault("status", copy.deepcopy(current.get("status")))
            if obj.get("status") is None:
                obj.pop("status")
            return self._commit_update(cluster, kind, copy.deepcopy(current), obj, keep_status=True)

    def set_log(self, cluster: Cluster, namespace: str, pod: str, text: str, container: str = "") -> None:
        """Set a pod's log text (for one container, or for the pod when `container` is empty)."""
        with self._lock:
            cluster.logs[(namespace, pod, container)] = text

    def read_log(
        self, cluster: Cluster, namespace: str, pod: str, container: str | None, tail_lines: int | None
    ) -> str:
        """A pod's log, as `GET …/pods/{name}/log` returns it."""
        with self._lock:
            obj = self.get(cluster, POD, namespace, pod)
            names = [c.get("name") for c in ((obj.get("spec") or {}).get("containers") or [])]
            init_names = [c.get("name") for c in ((obj.get("spec") or {}).get("initContainers") or [])]
            if container is None and len(names) > 1:
                raise bad_request(
                    f"a container name must be specified for pod {pod}, choose one of: "
                    f"[{' '.join(str(n) for n in names)}]"
                )
            if container is not None and names and container not in names + init_names:
                raise bad_request(f"container {container} is not valid for pod {pod}")
            chosen = container if container is not None else (names[0] if names else "")
            text = cluster.logs.get(
                (namespace, pod, chosen or ""), cluster.logs.get((namespace, pod, ""), "")
            )
        if tail_lines is None:
            return text
        lines = text.splitlines(keepends=True)
        return "".join(lines[-tail_lines:]) if tail_lines > 0 else ""

    # ----- internals -----
    def _check_identity(
        self, kind: Kind, obj: dict[str, Any], namespace: str, name: str | None = None
    ) -> None:
        api_version, obj_kind = obj.get("apiVersion"), obj.get("kind")
        if api_version and api_version != kind.api_version:
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({kind.api_version})"
            )
        if obj_kind and obj_kind != kind.kind:
            raise bad_request(
                f'{obj_kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
                f"the kind in the data does not match"
            )
        meta = _meta(obj)
        if kind.namespaced and meta.get("namespace") and meta["namespace"] != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        if name is not None and meta.get("name") and meta["name"] != name:
            raise bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
            )
        if name is not None and not meta.get("name"):
            meta["name"] = name

    def _prepare(self, kind: Kind, obj: dict[str, Any], namespace: str) -> None:
        obj["apiVersion"], obj["kind"] = kind.api_version, kind.kind
        meta = _meta(obj)
        if kind.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if kind is SECRET:
            normalize_secret(obj)
        if kind is NAMESPACE and meta.get("name"):
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})

    def _require_namespace(self, cluster: Cluster, kind: Kind, namespace: str) -> None:
        if kind.namespaced and _key(NAMESPACE, "", namespace) not in cluster.objects:
            raise errors.namespace_not_found(namespace)

    def _check_preconditions(self, kind: Kind, current: dict[str, Any], pre: dict[str, Any]) -> None:
        meta = current["metadata"]
        if pre.get("uid") and pre["uid"] != meta["uid"]:
            raise KubeError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {kind.resource} "{meta["name"]}": '
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: "
                f"{meta['uid']}",
                {"name": meta["name"], "kind": kind.plural},
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
            raise KubeError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {kind.resource} "{meta["name"]}": '
                f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                f"ResourceVersion in object meta: {meta['resourceVersion']}",
                {"name": meta["name"], "kind": kind.plural},
            )

    def _store_new(
        self, cluster: Cluster, kind: Kind, obj: dict[str, Any], keep_status: bool
    ) -> dict[str, Any]:
        meta = obj["metadata"]
        meta["uid"] = str(uuid.uuid4())
        meta["resourceVersion"] = self._next_rv()
        meta["creationTimestamp"] = self.clock.timestamp()
        if kind.tracks_generation:
            meta["generation"] = 1
        if kind.status_subresource and not keep_status:
            obj["status"] = copy.deepcopy(kind.default_status)
        if kind is JOB:
            _default_job_selector(obj)
        cluster.objects[_key(kind, meta.get("namespace", ""), meta["name"])] = obj
        return copy.deepcopy(obj)

    def _commit_update(
        self,
        cluster: Cluster,
        kind: Kind,
        current: dict[str, Any],
        new: dict[str, Any],
        keep_status: bool = False,
    ) -> dict[str, Any]:
        cur_meta, new_meta = current["metadata"], new["metadata"]
        precondition = new_meta.get("resourceVersion")
        if precondition and precondition != cur_meta["resourceVersion"]:
            raise errors.conflict(kind, cur_meta["name"])
        ensure_valid(kind, new, current)
        for meta_key in ("uid", "creationTimestamp", "generation", "deletionTimestamp"):
            if meta_key in cur_meta:
                new_meta[meta_key] = cur_meta[meta_key]
            else:
                new_meta.pop(meta_key, None)
        if kind is JOB:  # the selector is immutable: a replacement that leaves it out keeps the generated one
            _default_job_selector(new)
        if kind.status_subresource and not keep_status:
            if "status" in current:
                new["status"] = copy.deepcopy(current["status"])
            else:
                new.pop("status", None)
        new_meta["resourceVersion"] = cur_meta["resourceVersion"]
        if _comparable(new) == _comparable(current):
            return current  # a no-op write is not persisted and does not bump resourceVersion
        if kind.tracks_generation and _spec_view(new) != _spec_view(current):
            new_meta["generation"] = int(cur_meta.get("generation", 1)) + 1
        new_meta["resourceVersion"] = self._next_rv()
        cluster.objects[_key(kind, new_meta.get("namespace", ""), new_meta["name"])] = new
        return copy.deepcopy(new)


def _default_job_selector(job: dict[str, Any]) -> None:
    """What the API server does to a new Job without `manualSelector`: select its pods by the Job's uid.

    kubectl finds a Job's pods (`logs job/…`, `describe job/…`) through this selector and these labels.
    """
    spec = job.setdefault("spec", {})
    if spec.get("manualSelector") or spec.get("selector"):
        return
    uid, name = job["metadata"]["uid"], job["metadata"]["name"]
    spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    labels = spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})
    labels.update(
        {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": name,
            "controller-uid": uid,
            "job-name": name,
        }
    )


def _encode_continue(namespace: str, name: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([namespace, name]).encode()).decode()


def _decode_continue(token: str | None) -> tuple[str, str] | None:
    if not token:
        return None
    try:
        namespace, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(namespace), str(name)
    except (ValueError, TypeError) as exc:
        raise bad_request("continue key is not valid: illegal base64 data") from exc
