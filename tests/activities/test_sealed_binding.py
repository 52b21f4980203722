"""A sealed secret is bound to its linker: a token copied from another linker's record fails, writes nothing.

The token is sealed as the HTTP trigger seals it (`seal_connection`), and opened by the activity that writes
the Secret; no deployment predates the binding, so tokens sealed without a context are not kept readable.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from activities.kube_resources import apply_connection_resources
from connector.errors import Category, ConnectorFailure
from connector.model import ClusterRef, Connection, SecretAuth, SecretKind
from connector.vocabulary import ClientType
from tests.activities.conftest import POSTGRES_DB, SEALING_KEY, SUB, World
from triggers.operations import seal_connection
from triggers.settings import TriggerSettings

CLUSTER = ClusterRef(subscription_id=SUB, resource_group="rg-demo", name="aks-demo-1")
PASSWORD = "Pg-0ther-l1nker-pa55"


def _sealed_postgres(linker_name: str) -> Connection:
    """A postgres connection with a raw password, sealed the way the HTTP trigger seals it."""
    raw = Connection(
        linker_name=linker_name,
        cluster=CLUSTER,
        target_id=POSTGRES_DB,
        target_kind="postgres-flexible",
        auth=SecretAuth(kind=SecretKind.RAW_VALUE, user_name="appuser", value=SecretStr(PASSWORD)),
        client_type=ClientType.PYTHON,
        namespace="apps",
    )
    return seal_connection(raw, TriggerSettings(sealing_key=SEALING_KEY))


def test_a_sealed_token_copied_from_another_linker_fails_and_writes_nothing(world: World) -> None:
    owner = _sealed_postgres("pgowner")
    assert isinstance(owner.auth, SecretAuth)
    copied = _sealed_postgres("pgcopy")
    copied = copied.model_copy(update={"auth": owner.auth})  # the owner's sealed token, on another linker

    with pytest.raises(ConnectorFailure) as caught:
        apply_connection_resources(copied.to_stored(), clients=world.clients)

    error = caught.value.error
    assert error.code == "SealedSecretMismatch"
    assert error.category is Category.INVALID
    assert error.resource == copied.linker_id
    assert PASSWORD not in error.message
    assert world.writes() == []


def test_the_token_opens_for_its_own_linker(world: World) -> None:
    apply_connection_resources(_sealed_postgres("pgowner").to_stored(), clients=world.clients)
    assert world.writes() != []
