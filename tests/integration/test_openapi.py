"""docs/openapi.json is generated from the functions' resolvers and template.yaml, and kept up to date."""

from typing import Any

from openapi_spec_validator import validate

from local.cfn import functions, load_template
from scripts.openapi import OUTPUT, build_spec, render
from tests.support.harness import REPO


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, item in document["paths"].items() for m, op in item.items()]


def test_the_committed_spec_is_what_the_code_generates() -> None:
    # Given the functions in template.yaml / When the spec is generated again / Then nothing changed
    assert OUTPUT.read_text(encoding="utf-8") == render(build_spec()), (
        "docs/openapi.json is stale: run `make openapi` and commit it"
    )


def test_the_spec_is_valid_openapi_and_documents_every_route_of_the_template() -> None:
    document = build_spec()
    validate(document)
    routes = {
        (r.method.lower(), r.path)
        for spec in functions(load_template(REPO / "template.yaml"))
        for r in spec.routes
    }
    assert {(m, p) for m, p, _ in operations(document)} == routes


def test_every_error_answer_has_the_contract_body_and_every_route_names_its_callers() -> None:
    document = build_spec()
    schemes = document["components"]["securitySchemes"]
    assert schemes["forgeInvocationToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["forgeInvocationToken"]["description"],
    }
    assert schemes["forgeSystemToken"]["name"] == "x-forge-oauth-system"
    for method, path, operation in operations(document):
        assert operation["security"], (method, path)
        statuses = set(operation["responses"])
        assert any(status.startswith("2") for status in statuses), (method, path)
        assert {"400", "401", "403", "413", "429", "500", "502", "504"} <= statuses, (method, path)
        if "requestBody" in operation:
            assert "422" in statuses
        for status, answer in operation["responses"].items():
            if not status.startswith("2"):
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    error = document["components"]["schemas"]["ErrorBody"]
    assert set(error["required"]) == {"code", "message", "requestId"}
    assert "details" in error["properties"]


def test_the_change_routes_document_atlassians_refusals_and_outages() -> None:
    paths = build_spec()["paths"]
    key = paths["/api-info/key"]["put"]["responses"]
    assert "api_key_has_scopes" in key["422"]["description"]
    assert "Retry-After" in key["503"]["headers"]
    token = paths["/api-info/token"]["put"]["responses"]
    assert "api_token_email_mismatch" in token["422"]["description"]


def test_an_answer_without_a_body_documents_none() -> None:
    for method, path, operation in operations(build_spec()):
        if "204" in operation["responses"]:
            assert "content" not in operation["responses"]["204"], (method, path)
