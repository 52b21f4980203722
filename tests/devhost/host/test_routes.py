"""Route templates as HTTP triggers declare them, matched as ASP.NET Core routing matches them."""

import pytest

from devhost.routes import RouteError, RouteTemplate, join_route


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("products/{category}/{id}", "products/books/7", {"category": "books", "id": "7"}),
        ("products/{category}/{id}", "PRODUCTS/books/7", {"category": "books", "id": "7"}),
        ("products/{category}/{id}", "products/books", None),
        ("items/{id:int}", "items/42", {"id": "42"}),
        ("items/{id:int}", "items/-3", {"id": "-3"}),
        ("items/{id:int}", "items/abc", None),
        ("items/{id:int}", "items/99999999999", None),  # beyond int32
        ("items/{id:long}", "items/99999999999", {"id": "99999999999"}),
        ("names/{x:alpha}", "names/Bob", {"x": "Bob"}),
        ("names/{x:alpha}", "names/b0b", None),
        ("codes/{c:regex(^[a-z]{{2}}-\\d+$)}", "codes/ab-12", {"c": "ab-12"}),
        ("codes/{c:regex(^[a-z]{{2}}-\\d+$)}", "codes/abc-12", None),
        ("t/{x:regex(^a:b$)}", "t/a:b", {"x": "a:b"}),
        (
            "ids/{g:guid}",
            "ids/0f8fad5b-d9cb-469f-a165-70867728950e",
            {"g": "0f8fad5b-d9cb-469f-a165-70867728950e"},
        ),
        ("ids/{g:guid}", "ids/nope", None),
        ("flags/{b:bool}", "flags/True", {"b": "True"}),
        ("n/{v:min(10)}", "n/9", None),
        ("n/{v:range(1,5)}", "n/5", {"v": "5"}),
        ("s/{v:minlength(3):maxlength(4)}", "s/abcd", {"v": "abcd"}),
        ("s/{v:minlength(3):maxlength(4)}", "s/ab", None),
        ("opt/{name?}", "opt/x", {"name": "x"}),
        ("opt/{name?}", "opt", {}),
        ("opt/{id:int?}", "opt/x", None),
        ("def/{name=guest}", "def", {"name": "guest"}),
        ("files/{*path}", "files/a/b/c.txt", {"path": "a/b/c.txt"}),
        ("files/{*path}", "files", {}),
        ("report.{format}", "report.json", {"format": "json"}),
        ("api/health", "api/health", {}),
        ("api/health", "api/health/x", None),
        ("", "", {}),
    ],
)
def test_templates_match_paths(template: str, path: str, expected: dict[str, str] | None) -> None:
    assert RouteTemplate(template).match(path) == expected


def test_literal_segments_take_precedence_over_parameters_and_catch_all_comes_last() -> None:
    texts = ("items/{*rest}", "items/{name}", "items/{id:int}", "items/special")
    templates = [RouteTemplate(t) for t in texts]
    ordered = [t.template for t in sorted(templates, key=lambda t: t.precedence)]
    assert ordered == ["items/special", "items/{id:int}", "items/{name}", "items/{*rest}"]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("a/{id:nosuch}", "unknown route constraint"),
        ("a/{x}/{X}", "parameter name twice"),
        ("a/{9x}", "bad route parameter name"),
    ],
)
def test_bad_templates_fail_clearly(template: str, message: str) -> None:
    with pytest.raises(RouteError, match=message):
        RouteTemplate(template)


def test_route_prefix_joins_without_double_slashes() -> None:
    assert join_route("api", "orchestrators/{name}") == "api/orchestrators/{name}"
    assert join_route("", "api/health") == "api/health"
    assert join_route("/v1/", "/x") == "v1/x"
