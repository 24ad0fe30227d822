"""The local stack: `python -m local` (or `make run`) serves the API on http://127.0.0.1:$PORT.

It starts moto (in-memory AWS), creates template.yaml's resources in it, runs the Atlassian simulator and
the development token issuer unless ATLASSIAN_API_URL / FORGE_JWKS_URL point elsewhere, and serves the
routes through the local gateway. Ctrl-C or SIGTERM stops everything.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

from local.atlassian_sim import CREDENTIALS_HELP, AtlassianSimulator
from local.cfn import TemplateError
from local.dev_issuer import DevTokenIssuer
from local.gateway import LocalGateway
from local.resources import create_resources, register_stack
from local.sigv4 import Signer

log = logging.getLogger("local")

DEFAULT_APP_ID = "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000000"
REGION = "us-east-1"
STACK_NAME = "api-info-local"  # what describe-stacks answers to in moto (scripts/smoke.py reads it)
# The local stack's AWS credentials (moto takes any): a request to an AWS_IAM route signed with them is
# this principal's, as API Gateway's IAM authorization would make it (local/sigv4.py).
OPERATOR = Signer("testing", "testing", "arn:aws:iam::123456789012:user/local-operator")
# Settings handed to the functions as they are when the developer sets them.
PASSED_THROUGH = (
    "ATLASSIAN_SITE_HOSTS",
    "EXPIRY_WARNING_DAYS",
    "REMINDER_DAYS",
    "CHANGE_ATTEMPTS_LIMIT",
    "CHANGE_ATTEMPTS_WINDOW_SECONDS",
)
# Every variable of the developer's environment the stack reads: what a test that starts it clears, so
# that the developer's shell cannot redirect it.
READS = (
    "FORGE_APP_ID",
    "FORGE_JWKS_URL",
    "ATLASSIAN_API_URL",
    "ALLOW_INSECURE_LOOPBACK",
    "AWS_ENDPOINT_URL",
    "PORT",
    "MOTO_PORT",
    *PASSED_THROUGH,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument(
        "--template", default="template.yaml", help="the SAM template (default: template.yaml)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("werkzeug", "botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    template = Path(args.template)
    if not template.is_file():
        log.error("%s not found; run from the repository root", template)
        return 1
    port = int(os.environ.get("PORT") or 3000)
    base_url = f"http://127.0.0.1:{port}"

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())

    # MOTO_PORT: where a client of the stack's AWS side (scripts/smoke.py) finds it; a free port if unset.
    moto = ThreadedMotoServer(
        ip_address="127.0.0.1", port=int(os.environ.get("MOTO_PORT") or 0), verbose=False
    )
    moto.start()
    simulator: AtlassianSimulator | None = None
    gateway: LocalGateway | None = None
    try:
        moto_url = "http://{}:{}".format(*moto.get_host_and_port())
        aws_env = {
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": OPERATOR.access_key_id,
            "AWS_SECRET_ACCESS_KEY": OPERATOR.secret_access_key,
            # A developer's ~/.aws files must not redirect the functions anywhere but moto.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        session = boto3.session.Session(
            aws_access_key_id=OPERATOR.access_key_id,
            aws_secret_access_key=OPERATOR.secret_access_key,
            region_name=REGION,
        )
        resources = create_resources(
            template, session=session, endpoint_url=moto_url, region=REGION, stack_name=STACK_NAME
        )

        settings = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
        settings["FORGE_APP_ID"] = os.environ.get("FORGE_APP_ID") or DEFAULT_APP_ID
        issuer = None
        if os.environ.get("FORGE_JWKS_URL"):
            settings["FORGE_JWKS_URL"] = os.environ["FORGE_JWKS_URL"]
        else:
            issuer = DevTokenIssuer(settings["FORGE_APP_ID"])
            settings["FORGE_JWKS_URL"] = f"{base_url}/.well-known/jwks.json"
        if os.environ.get("ATLASSIAN_API_URL"):
            settings["ATLASSIAN_API_URL"] = os.environ["ATLASSIAN_API_URL"]
        else:
            simulator = AtlassianSimulator()
            settings["ATLASSIAN_API_URL"] = simulator.start()
        # The simulator (and the built-in JWKS) live on plain-http loopback; a value the developer set wins.
        settings["ALLOW_INSECURE_LOOPBACK"] = os.environ.get("ALLOW_INSECURE_LOOPBACK", "true")

        gateway = LocalGateway(
            template,
            env={**aws_env, **settings},
            function_env=resources.functions,
            port=port,
            issuer=issuer,
            atlassian_url=settings["ATLASSIAN_API_URL"],
            signers={OPERATOR.access_key_id: OPERATOR},
        )
        # Before the gateway serves: whoever finds it up finds the stack described too.
        cloudformation = session.client("cloudformation", endpoint_url=moto_url)
        register_stack(cloudformation, STACK_NAME, {**resources.outputs, "ApiUrl": base_url})
        gateway.start()
        _banner(gateway, settings, moto_url, simulator is not None, issuer is not None)
        while not stopping.wait(0.5):
            pass
        log.info("stopping")
    except (TemplateError, OSError) as exc:
        log.error("the local stack could not start: %s", exc)
        return 1
    finally:
        if gateway is not None:
            gateway.stop()
        if simulator is not None:
            simulator.stop()
        moto.stop()
    return 0


def _banner(gateway: LocalGateway, settings: dict[str, str], moto_url: str, sim: bool, issuer: bool) -> None:
    url = gateway.url
    routes = "\n".join(
        f"  {r.method:6} {r.resource}{'   (AWS_IAM: send X-Local-Iam-User-Arn)' if r.iam else ''}"
        for r in sorted(gateway.routes, key=lambda r: (r.resource, r.method))
    )
    lines = [
        "",
        f"API Information service, local stack: {url}",
        f"  reference page  {url}/",
        f"  API docs        {url}/swagger",
        f"  FORGE_APP_ID    {settings['FORGE_APP_ID']}",
        f"  JWKS            {settings['FORGE_JWKS_URL']}{'  (built-in issuer)' if issuer else ''}",
        f"  Atlassian       {settings['ATLASSIAN_API_URL']}{'  (built-in simulator)' if sim else ''}",
        f"  AWS (moto)      {moto_url}  (stack {STACK_NAME}; access key and secret: testing)",
        "Routes:",
        routes,
    ]
    if issuer:
        lines += [
            "Get a token (25 s to live; account=admin|user|<accountId>, installation=<name>, ttlSeconds):",
            f"  curl -s -X POST {url}/dev/token",
        ]
    if sim:
        lines += ["Atlassian simulator credentials:", CREDENTIALS_HELP]
    lines.append("Ctrl-C stops the stack.")
    print("\n".join(lines), flush=True)  # the start banner: the one place this package prints


if __name__ == "__main__":
    sys.exit(main())
