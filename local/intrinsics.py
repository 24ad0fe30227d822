"""CloudFormation's intrinsic functions and conditions (!Ref, !GetAtt, !Sub, !If, ...) over template.yaml.

The local stack resolves them the way CloudFormation would, creating a referenced resource on first use
(`ensure`, given by local.resources).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from local.cfn import TemplateError

log = logging.getLogger("local.resources")

ACCOUNT_ID = "123456789012"  # moto's default account
NO_VALUE = object()  # AWS::NoValue: the property or variable is left out


def as_text(value: Any) -> str:
    # CloudFormation turns YAML booleans and numbers in environment variables into their text.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(as_text(v) for v in value)
    return str(value)


class Intrinsics:
    """Resolves a template's values for one stack; a subclass creates the resources they name."""

    def __init__(self, template: dict[str, Any], region: str) -> None:
        self.template = template
        self.region = region
        self.stack_name = "api-info-local"
        self.overrides: dict[str, str] = {}
        self.refs: dict[str, str] = {}
        self.arns: dict[str, str] = {}
        self.attrs: dict[str, dict[str, str]] = {}
        self.defaulted: set[str] = set()

    def ensure(self, logical_id: str) -> None:
        raise NotImplementedError

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, arg),) = value.items()
            if name == "Ref":
                return self.ref(arg)
            if name == "Fn::GetAtt":
                return self.get_att(*(arg if isinstance(arg, list) else arg.split(".", 1)))
            if name == "Fn::Sub":
                return self.sub(arg)
            if name == "Fn::Join":
                return arg[0].join(as_text(v) for v in self.resolve(arg[1]))
            if name == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if name == "Fn::Split":
                return self.resolve(arg[1]).split(arg[0])
            if name == "Fn::If":
                branch = arg[1] if self.condition_holds(arg[0]) else arg[2]
                return self.resolve(branch)
            if name.startswith("Fn::") or name == "Condition":
                raise TemplateError(f"{name} is not supported by the local stack")
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT_ID}:stack/{self.stack_name}/0",
        }
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in pseudo:
            return pseudo[name]
        params = self.template.get("Parameters") or {}
        if name in params:
            if name in self.overrides:
                return self.overrides[name]
            if "Default" not in params[name]:
                # Deploys must give it; locally the settings usually override what it feeds.
                if name not in self.defaulted:
                    self.defaulted.add(name)
                    log.info("parameter %s has no Default nor override; using an empty string", name)
                return ""
            default = params[name]["Default"]
            is_list = str(params[name].get("Type", "")).startswith("CommaDelimitedList")
            if is_list and isinstance(default, str):
                return default.split(",")
            return default
        if name in self.template["Resources"]:
            self.ensure(name)
            return self.refs[name]
        published = self._published(name)
        if published is not None:
            return published
        raise TemplateError(f"!Ref {name}: no such parameter or resource")

    def _published(self, name: str) -> str | None:
        """SAM's `!Ref <Function>.Version` and `.Alias` of an AutoPublishAlias function: the ARN of its
        published version (locally always version 1) or of its alias; None for any other name."""
        function, _, what = name.partition(".")
        resource = self.template["Resources"].get(function) or {}
        if what not in ("Version", "Alias") or resource.get("Type") != "AWS::Serverless::Function":
            return None
        glob = (self.template.get("Globals") or {}).get("Function") or {}
        alias = (resource.get("Properties") or {}).get("AutoPublishAlias") or glob.get("AutoPublishAlias")
        if not alias:
            raise TemplateError(f"!Ref {name}: {function} has no AutoPublishAlias")
        self.ensure(function)
        return f"{self.arns[function]}:{'1' if what == 'Version' else alias}"

    def get_att(self, name: str, attribute: str) -> str:
        if name not in self.template["Resources"]:
            raise TemplateError(f"!GetAtt {name}.{attribute}: no such resource")
        self.ensure(name)
        if attribute == "Arn":
            return self.arns[name]
        if attribute in self.attrs.get(name, {}):
            return self.attrs[name][attribute]
        raise TemplateError(f"!GetAtt {name}.{attribute} is not supported by the local stack")

    def sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def substitute(match: re.Match[str]) -> str:
            inner = match.group(1)
            if inner.startswith("!"):  # ${!Literal} stays as ${Literal}
                return "${" + inner[1:] + "}"
            if inner in variables:
                return as_text(self.resolve(variables[inner]))
            if "." in inner and inner.split(".", 1)[0] in self.template["Resources"]:
                return self.get_att(*inner.split(".", 1))
            return as_text(self.ref(inner))

        return re.sub(r"\$\{([^}]+)\}", substitute, text)

    def condition_holds(self, condition: Any) -> bool:
        if condition is None:
            return True
        if isinstance(condition, str):
            condition = (self.template.get("Conditions") or {})[condition]
        ((name, arg),) = condition.items()
        if name == "Condition":
            return self.condition_holds(arg)
        if name == "Fn::Equals":
            return as_text(self.resolve(arg[0])) == as_text(self.resolve(arg[1]))
        if name == "Fn::Not":
            return not self.condition_holds(arg[0])
        if name == "Fn::And":
            return all(self.condition_holds(c) for c in arg)
        if name == "Fn::Or":
            return any(self.condition_holds(c) for c in arg)
        raise TemplateError(f"condition {name} is not supported by the local stack")
