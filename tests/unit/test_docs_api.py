"""docs/API.md, the service's reference of its outside, held against what defines that outside: the
OpenAPI document generated from the functions, the error codes of the layer, and template.yaml (routes,
API Gateway's own answers, the functions' environment, the events they may publish)."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from typing import Any

import pytest

from api_info import errors
from api_info.credentials import kinds
from api_info.settings import Settings
from local.cfn import functions, gateway_responses, load_template
from tests.support.docs import OUTSIDE_REFERENCES, code_spans, read, section, table_rows
from tests.support.harness import REPO

API = read("docs/API.md")
OPENAPI: dict[str, Any] = json.loads(read("docs/openapi.json"))
TEMPLATE = load_template(REPO / "template.yaml")
METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH")
ROUTE = re.compile(rf"^({'|'.join(METHODS)}) (/(?:api-info|ops|lifecycle)[^ ?]*)")


def operations() -> set[tuple[str, str]]:
    """(method, path) of every operation of docs/openapi.json."""
    return {
        (method.upper(), path)
        for path, item in OPENAPI["paths"].items()
        for method in item
        if method.upper() in METHODS
    }


def route_rows() -> dict[tuple[str, str], list[str]]:
    """The rows of the route table of section 2, by the route in their first cell."""
    rows = {}
    for cells in table_rows(section(API, "## 2.")):
        found = ROUTE.match(cells[0].strip("`"))
        if found:
            rows[(found[1], found[2])] = cells
    return rows


def error_rows() -> list[tuple[int, str, str]]:
    """(status, code, answered by) of each row of the error table of section 3."""
    rows = []
    for cells in table_rows(section(API, "## 3.")):
        if cells[0].isdigit():
            rows.extend((int(cells[0]), code, cells[-1]) for code in code_spans(cells[1]))
    return rows


def function_errors() -> set[tuple[int, str]]:
    """(status, code) of every error the functions can answer: each ApiError, and each of Atlassian's
    refusals that CredentialRejected carries."""
    found: set[tuple[int, str]] = set()
    pending: list[type[errors.ApiError]] = [errors.ApiError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls is errors.CredentialRejected:
            found |= {(cls.status, code) for kind in kinds() for code in kind.refusals}
        else:
            found.add((cls.status, cls.code))
    return found


def gateway_errors() -> list[tuple[int | None, str]]:
    """(status, code) of API Gateway's own answers; the status is None for DEFAULT_4XX / DEFAULT_5XX."""
    answers = []
    for response in gateway_responses(TEMPLATE).values():
        body = json.loads(response["ResponseTemplates"]["application/json"])
        status = response.get("StatusCode")
        answers.append((int(status) if status else None, body["error"]["code"]))
    return answers


def settings_rows() -> dict[str, list[str]]:
    """The rows of the settings table of section 6, by each variable their first cell names."""
    rows = {}
    for cells in table_rows(section(API, "## 6.")):
        for name in code_spans(cells[0]):
            rows[name] = cells
    return rows


def template_environment() -> dict[str, Any]:
    """Every variable template.yaml gives a function (Globals and each function's own), with its value."""
    resources = TEMPLATE["Resources"]
    found = dict(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
    for name, resource in resources.items():
        # The pre-traffic hook's variables are each function's new version: deploy plumbing, not a
        # setting of the service (docs/DEPLOYMENT.md describes the hook).
        if resource.get("Type") == "AWS::Serverless::Function" and name != "PreTrafficHookFunction":
            props = resource.get("Properties") or {}
            found.update(((props.get("Environment") or {}).get("Variables")) or {})
    return found


def refs(value: Any) -> set[str]:
    """The names a template value refers to (`!Ref X`, `!GetAtt X.Arn`, inside `!If` too)."""
    if isinstance(value, dict):
        if "Ref" in value:
            return {value["Ref"]}
        if "Fn::GetAtt" in value:
            return {value["Fn::GetAtt"][0]}
        return set().union(*(refs(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(refs(v) for v in value)) if value else set()
    return set()


def condition_values(node: Any, key: str) -> set[str]:
    """Every value of an IAM condition key anywhere in the template (e.g. `events:detail-type`)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key:
                found |= set(value if isinstance(value, list) else [value])
            else:
                found |= condition_values(value, key)
    elif isinstance(node, list):
        for value in node:
            found |= condition_values(value, key)
    return found


# ---------------------------------------------------------------------------------------------- routes


def test_the_route_table_lists_every_operation_of_the_openapi_document_and_no_other() -> None:
    assert set(route_rows()) == operations()


def test_the_route_table_lists_every_route_of_template_yaml() -> None:
    routes = {(r.method, r.path) for spec in functions(TEMPLATE) for r in spec.routes}
    assert set(route_rows()) == routes


def test_every_route_the_page_names_exists() -> None:
    named = {(m[1], m[2]) for span in code_spans(API) if (m := ROUTE.match(span))}
    assert named, "the page names no route in backticks"
    assert named <= operations()


@pytest.mark.parametrize("operation", sorted(operations()))
def test_each_route_states_its_success_status(operation: tuple[str, str]) -> None:
    method, path = operation
    responses = OPENAPI["paths"][path][method.lower()]["responses"]
    success = [status for status in responses if status.startswith("2")]
    assert len(success) == 1
    assert success[0] in route_rows()[operation][-1], operation


# ---------------------------------------------------------------------------------------------- errors


def test_every_status_of_the_openapi_document_is_explained_in_the_error_table() -> None:
    documented = {
        int(status)
        for item in OPENAPI["paths"].values()
        for operation in item.values()
        for status in operation.get("responses", {})
        if not status.startswith("2")
    }
    assert documented <= {status for status, _, _ in error_rows()}


def test_the_error_table_holds_exactly_the_codes_the_functions_and_api_gateway_answer() -> None:
    answered = {code for _, code in function_errors()} | {code for _, code in gateway_errors()}
    assert {code for _, code, _ in error_rows()} == answered


def test_each_code_of_the_functions_is_listed_with_its_status_as_the_functions_answer_it() -> None:
    rows = {(status, code) for status, code, by in error_rows() if "function" in by}
    assert function_errors() <= rows


def test_each_of_api_gateways_own_answers_is_listed_as_api_gateways() -> None:
    rows = error_rows()
    for status, code in gateway_errors():
        assert any(
            c == code and "API Gateway" in by and (status is None or s == status) for s, c, by in rows
        ), (status, code)


def test_the_codes_the_openapi_document_names_are_in_the_error_table() -> None:
    named = {
        code
        for item in OPENAPI["paths"].values()
        for operation in item.values()
        for response in operation.get("responses", {}).values()
        for span in code_spans(response.get("description", ""))
        for code in re.findall(r"[a-z]+(?:_[a-z]+)+", span)
    }
    assert named
    assert named <= {code for _, code, _ in error_rows()}


# -------------------------------------------------------------------------------------------- settings


def test_every_variable_template_yaml_gives_the_functions_is_a_setting_with_its_source() -> None:
    rows = settings_rows()
    for name, value in template_environment().items():
        assert name in rows, name
        for source in refs(value):  # the parameter or resource it comes from is named on its row
            assert f"`{source}`" in " ".join(rows[name]), (name, source)


def test_every_setting_the_service_reads_is_in_the_settings_table() -> None:
    read_from_environment = {field.name.upper() for field in fields(Settings)}
    assert read_from_environment <= set(settings_rows())


def test_the_settings_table_names_only_variables_the_service_reads_or_the_template_sets() -> None:
    known = {field.name.upper() for field in fields(Settings)} | set(template_environment())
    assert set(settings_rows()) <= known


def test_allow_insecure_loopback_is_documented_as_never_set_by_the_template() -> None:
    assert "ALLOW_INSECURE_LOOPBACK" not in template_environment()
    assert "never set" in settings_rows()["ALLOW_INSECURE_LOOPBACK"][-1]


# ---------------------------------------------------------------------------------------------- events


def test_every_event_the_functions_may_publish_is_described_with_its_source() -> None:
    events = section(API, "## 5.")
    detail_types = condition_values(TEMPLATE["Resources"], "events:detail-type")
    sources = condition_values(TEMPLATE["Resources"], "events:source")
    assert detail_types and sources
    described = {cells[0].strip("`") for cells in table_rows(events)}
    assert described == detail_types
    for source in sources:
        assert f"`{source}`" in events


# ----------------------------------------------------------------------------- standing on their own


@pytest.mark.parametrize(
    "name", ["README.md", *sorted(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md"))]
)
def test_the_docs_point_to_nothing_outside_the_repository(name: str) -> None:
    # A reader of the repository has no contract document and no issue tracker: what the service
    # answers is in docs/API.md.
    lines = [line for line in read(name).splitlines() if OUTSIDE_REFERENCES.search(line)]
    assert lines == []


def test_the_readme_and_the_design_notes_point_to_the_api_reference() -> None:
    assert "docs/API.md" in read("README.md")
    assert "API.md" in read("docs/DESIGN.md")


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize(
    "name", ["README.md", *sorted(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md"))]
)
def test_every_link_to_a_section_finds_its_heading(name: str) -> None:
    # The references to docs/API.md (and the headings renamed with it) land where they say.
    broken = []
    for target, anchor in re.findall(r"\]\(([^)#\s]*)#([^)\s]+)\)", read(name)):
        path = (REPO / name).parent / target if target else REPO / name
        if path.suffix != ".md":
            continue
        headings = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
        if anchor not in {slug(heading) for heading in headings}:
            broken.append(f"{target}#{anchor}")
    assert broken == []
