"""Reading template.yaml: a YAML loader for CloudFormation's short-form tags, and the functions in it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class TemplateError(Exception):
    """template.yaml holds something the local stack cannot make sense of."""


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads `!Ref X` as {"Ref": "X"} and `!Sub s` as {"Fn::Sub": s}, like CloudFormation."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        # `!GetAtt Table.Arn` is the short form of ["Table", "Arn"].
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: str | Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML template, keeping intrinsic functions as plain dicts."""
    try:
        with open(path, encoding="utf-8") as handle:
            # _CfnLoader is a SafeLoader subclass: it builds plain data only.
            template = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506  # nosec B506
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise TemplateError(f"{path} has no Resources section")
    return template


@dataclass(frozen=True)
class ApiRoute:
    method: str  # upper case, or ANY
    path: str  # the resource path, e.g. /ops/tenants/{tenantId}/api-info/key
    iam: bool  # the route has Auth: {Authorizer: AWS_IAM}


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: str
    handler: str
    timeout: int
    memory_size: int
    routes: tuple[ApiRoute, ...]


def functions(template: dict[str, Any]) -> list[FunctionSpec]:
    """Every AWS::Serverless::Function with its code, handler and Api events, Globals applied."""
    glob = (template.get("Globals") or {}).get("Function") or {}
    default_auth = ((template.get("Globals") or {}).get("Api") or {}).get("Auth") or {}
    resources = template["Resources"]
    specs = []
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = {**glob, **(resource.get("Properties") or {})}
        code_uri, handler = props.get("CodeUri"), props.get("Handler")
        if not isinstance(code_uri, str) or not isinstance(handler, str):
            raise TemplateError(f"{logical_id}: CodeUri and Handler must be plain strings")
        routes = []
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            ev = event.get("Properties") or {}
            api_auth = _api_auth(resources, ev.get("RestApiId")) or default_auth
            authorizer = (ev.get("Auth") or {}).get("Authorizer") or api_auth.get("DefaultAuthorizer")
            routes.append(ApiRoute(str(ev["Method"]).upper(), str(ev["Path"]), authorizer == "AWS_IAM"))
        specs.append(
            FunctionSpec(
                logical_id=logical_id,
                code_uri=code_uri,
                handler=handler,
                timeout=_int(template, props.get("Timeout"), 3),
                memory_size=_int(template, props.get("MemorySize"), 128),
                routes=tuple(routes),
            )
        )
    return specs


def gateway_responses(template: dict[str, Any]) -> dict[str, Any]:
    """The GatewayResponses of the template's AWS::Serverless::Api (or Globals.Api), by response type."""
    for resource in template["Resources"].values():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::Serverless::Api":
            responses = (resource.get("Properties") or {}).get("GatewayResponses")
            if isinstance(responses, dict):
                return responses
    return ((template.get("Globals") or {}).get("Api") or {}).get("GatewayResponses") or {}


def _api_auth(resources: dict[str, Any], rest_api_id: Any) -> dict[str, Any]:
    if isinstance(rest_api_id, dict) and isinstance(rest_api_id.get("Ref"), str):
        api = resources.get(rest_api_id["Ref"]) or {}
        return (api.get("Properties") or {}).get("Auth") or {}
    return {}


def _int(template: dict[str, Any], value: Any, default: int) -> int:
    # Timeout and MemorySize may be a !Ref to a parameter: its Default is what a plain deploy gets.
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        value = ((template.get("Parameters") or {}).get(value["Ref"]) or {}).get("Default")
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
