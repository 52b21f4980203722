"""Routes match the path as the Functions host (ASP.NET Core) decodes it: every escape except %2F."""

from __future__ import annotations

from devhost.http_host import routing_path
from devhost.routes import RouteTemplate

LINKER = RouteTemplate("clusters/{cluster}/linkers/{name}")
LINKERS = RouteTemplate("clusters/{cluster}/linkers")


def test_an_encoded_slash_stays_inside_its_segment() -> None:
    path = routing_path("/clusters/c1/linkers/%2f?api-version=2022-05-01")
    assert LINKERS.match(path) is None  # the list route must not answer for a linker named "/"
    assert LINKER.match(path) == {"cluster": "c1", "name": "%2F"}


def test_other_escapes_are_decoded() -> None:
    assert LINKER.match(routing_path("/clusters/a%20b/linkers/x%41")) == {"cluster": "a b", "name": "xA"}
