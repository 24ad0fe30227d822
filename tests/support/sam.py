"""template.yaml as `sam deploy` hands it to CloudFormation, for the template tests."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from tests.support.harness import REPO


@cache
def transformed(strategy: str | None = None) -> dict[str, Any]:
    """SAM's transform of the template (code locations stubbed: not deployed), with the stack's
    DeploymentStrategy parameter when given."""
    template = yaml_parse((REPO / "template.yaml").read_text())
    for resource in template["Resources"].values():
        props = resource.get("Properties") or {}
        for uri in ("CodeUri", "ContentUri"):
            if uri in props:
                props[uri] = "s3://bucket/key"

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    parameters = {"DeploymentStrategy": strategy} if strategy else {}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        result: dict[str, Any] = transform(copy.deepcopy(template), parameters, NoManagedPolicies())
    return result
