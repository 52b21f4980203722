"""Generated names are valid where they are used, deterministic, and never silently shared by two linkers."""

from __future__ import annotations

import re
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector import naming
from connector.model import ClusterRef, Connection, SecretAuth
from connector.validation import RequestValidationError, is_dns1123_subdomain, linker_name_problems

from .conftest import BLOB_TARGET_ID, GROUP, SUBSCRIPTION

CLUSTER = ClusterRef(subscription_id=SUBSCRIPTION, resource_group=GROUP, name="servicelinker-storage-cluster")
OTHER_CLUSTER = ClusterRef(subscription_id=SUBSCRIPTION, resource_group=GROUP, name="other-cluster")
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
FEDERATED_CREDENTIAL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{2,119}")

valid_linker_names = st.from_regex(r"[A-Za-z0-9._]{0,60}[A-Za-z0-9][A-Za-z0-9._]{0,60}", fullmatch=True)
namespaces = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)


def connection(name: str, namespace: str = "default", cluster: ClusterRef = CLUSTER) -> Connection:
    return Connection(
        linker_name=name,
        cluster=cluster,
        target_id=BLOB_TARGET_ID,
        target_kind="storage-blob",
        auth=SecretAuth(),
        namespace=namespace,
    )


@pytest.mark.parametrize(
    ("linker_name", "secret"),
    [
        # Examples seen on real clusters (reference §1.2).
        ("aks_to_akv_with_sscsi", "sc-akstoakvwithsscsi-secret"),
        ("pg", "sc-pg-secret"),
        ("postgresflexible_bft3u", "sc-postgresflexiblebft3u-secret"),
        ("My.Conn_1", "sc-myconn1-secret"),
    ],
)
def test_secret_names_follow_service_connector(linker_name: str, secret: str) -> None:
    assert naming.secret_name(linker_name) == secret


@settings(max_examples=200)
@given(name=st.text(max_size=300))
def test_any_linker_name_gives_a_valid_secret_name_or_a_clear_refusal(name: str) -> None:
    try:
        secret = naming.secret_name(name)
    except RequestValidationError as error:
        assert error.code == "InvalidKubernetesName"
        assert "Secret" in error.message
        return
    assert is_dns1123_subdomain(secret)


@settings(max_examples=200)
@given(name=valid_linker_names)
def test_every_accepted_linker_name_gets_a_valid_secret_name(name: str) -> None:
    assert linker_name_problems(name) == []
    assert is_dns1123_subdomain(naming.secret_name(name))


@settings(max_examples=200)
@given(client_id=st.uuids().map(str), upper=st.booleans())
def test_service_account_names_are_valid_and_lower_case(client_id: str, upper: bool) -> None:
    name = naming.service_account_name(client_id.upper() if upper else client_id)
    assert name == f"sc-account-{client_id.lower()}"
    assert is_dns1123_subdomain(name)


@settings(max_examples=150)
@given(client_id=st.text(max_size=300))
def test_service_account_names_from_any_text_are_valid_or_refused(client_id: str) -> None:
    try:
        name = naming.service_account_name(client_id)
    except RequestValidationError as error:
        assert error.code == "InvalidKubernetesName"
        assert "ServiceAccount" in error.message
        return
    assert is_dns1123_subdomain(name)


@settings(max_examples=200)
@given(namespace=namespaces, client_id=st.uuids().map(str), cluster_name=st.text(min_size=1, max_size=63))
def test_federated_credential_names_meet_azure_rules_and_are_deterministic(
    namespace: str, client_id: str, cluster_name: str
) -> None:
    cluster = ClusterRef(subscription_id=SUBSCRIPTION, resource_group=GROUP, name=cluster_name)
    account = naming.service_account_name(client_id)
    name = naming.federated_credential_name(cluster, namespace, account)
    assert FEDERATED_CREDENTIAL_NAME.fullmatch(name)
    assert name == naming.federated_credential_name(cluster, namespace, account)


def test_federated_credential_names_differ_per_cluster_and_namespace_not_per_case() -> None:
    account = naming.service_account_name("7fd7a8e3-5f5a-4f3b-9e8e-8f2a7c9b5d11")
    base = naming.federated_credential_name(CLUSTER, "default", account)
    upper = ClusterRef(subscription_id=SUBSCRIPTION.upper(), resource_group=GROUP.upper(), name=CLUSTER.name)
    assert naming.federated_credential_name(upper, "default", account) == base
    assert naming.federated_credential_name(OTHER_CLUSTER, "default", account) != base
    assert naming.federated_credential_name(CLUSTER, "apps", account) != base


def test_role_assignment_names_are_deterministic_guids_from_scope_principal_and_role() -> None:
    role = (
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization"
        "/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe"
    )
    principal = "0b3c5d1e-2f4a-4b6c-8d9e-1f2a3b4c5d6e"
    name = naming.role_assignment_name(BLOB_TARGET_ID, principal, role)

    assert str(uuid.UUID(name)) == name
    assert naming.role_assignment_name(BLOB_TARGET_ID.upper(), principal.upper(), role) == name
    assert naming.role_assignment_name(BLOB_TARGET_ID, principal, role.replace("ba92", "ba93")) != name
    assert naming.role_assignment_name(BLOB_TARGET_ID + "x", principal, role) != name
    assert naming.role_assignment_name(BLOB_TARGET_ID, principal.replace("0b3c", "0b3d"), role) != name


@settings(max_examples=200)
@given(name=valid_linker_names)
def test_ownership_labels_are_valid_label_values_and_the_annotation_keeps_the_full_id(name: str) -> None:
    c = connection(name)
    labels = naming.secret_labels(c)
    assert labels[naming.MANAGED_BY_LABEL] == "aks-service-connector"
    assert all(len(value) <= 63 and LABEL_VALUE.fullmatch(value) for value in labels.values())
    assert naming.secret_annotations(c)[naming.LINKER_ID_ANNOTATION] == c.linker_id
    # ARM ids are case-insensitive: the hash label does not depend on case.
    assert naming.linker_hash(c.linker_id.upper()) == labels[naming.LINKER_HASH_LABEL]
    assert naming.linker_selector(c.linker_id).endswith(labels[naming.LINKER_HASH_LABEL])


@st.composite
def colliding_variant(draw: st.DrawFn, name: str) -> str:
    """Another linker name with the same letters and digits: case changed, '.' and '_' inserted."""
    out = []
    for ch in name:
        if draw(st.booleans()):
            out.append(draw(st.sampled_from([".", "_", "._"])))
        out.append(ch.swapcase() if draw(st.booleans()) else ch)
    variant = "".join(out) + draw(st.sampled_from(["", "_", "."]))
    # Names differing only in case are the same linker (ARM names compare case-insensitively).
    return variant if variant.lower() != name.lower() else variant + "_"


@settings(max_examples=150)
@given(data=st.data(), name=valid_linker_names, namespace=namespaces)
def test_two_linkers_mapping_to_one_secret_in_a_namespace_are_refused(
    data: st.DataObject, name: str, namespace: str
) -> None:
    other_name = data.draw(colliding_variant(name))
    existing = connection(other_name, namespace)
    new = connection(name, namespace)

    assert naming.find_secret_name_collision(new, [existing]) == existing
    with pytest.raises(RequestValidationError) as refused:
        naming.check_secret_name_collision(new, [existing])
    assert refused.value.code == "SecretNameCollision"
    assert repr(name) in refused.value.message and repr(other_name) in refused.value.message
    assert refused.value.to_arm_body()["error"]["details"][0]["code"] == "SecretNameCollision"


@settings(max_examples=200)
@given(name=valid_linker_names, namespace=namespaces)
def test_same_names_elsewhere_or_the_same_linker_again_do_not_collide(name: str, namespace: str) -> None:
    new = connection(name, namespace)
    elsewhere = [
        connection(name, namespace + "x" if len(namespace) < 63 else "other"),
        connection(name, namespace, OTHER_CLUSTER),
        connection(name, namespace),  # the same linker, PUT again
        connection(name.upper(), namespace),  # the same linker: ARM names compare case-insensitively
    ]
    assert naming.find_secret_name_collision(new, elsewhere) is None
    naming.check_secret_name_collision(new, elsewhere)
