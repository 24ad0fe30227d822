"""`python -m local` starts everything, serves within 30 s, and stops cleanly on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from local.__main__ import READS

REPO = Path(__file__).parents[2]

TEMPLATE = """\
Globals:
  Function:
    Handler: app.lambda_handler
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        EXPIRY_WARNING_DAYS: 14
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
  EnvFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/env
      Events:
        Get:
          Type: Api
          Properties: {Path: /env, Method: GET}
"""

HANDLER = """\
import json
import os

import boto3

NAMES = ("FORGE_APP_ID", "FORGE_JWKS_URL", "ATLASSIAN_API_URL", "ALLOW_INSECURE_LOOPBACK",
         "EXPIRY_WARNING_DAYS", "REMINDER_DAYS", "TABLE_NAME", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION")


def lambda_handler(event, context):
    tables = boto3.client("dynamodb").list_tables()["TableNames"]
    body = {"env": {n: os.environ.get(n) for n in NAMES}, "tables": tables, "pid": os.getpid()}
    return {"statusCode": 200, "body": json.dumps(body)}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def local_stack(tmp_path: Path, **settings: str) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    (tmp_path / "functions" / "env").mkdir(parents=True)
    (tmp_path / "functions" / "env" / "app.py").write_text(HANDLER)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in READS}
    env.update(settings, PORT=str(port))
    log = tmp_path / "stack.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own module
            [sys.executable, "-m", "local", "--template", str(tmp_path / "template.yaml")],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/swagger", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                assert proc.poll() is None, log.read_text()
                time.sleep(0.2)
        yield url, proc, log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_starts_serves_and_stops_cleanly(tmp_path: Path) -> None:
    with local_stack(tmp_path) as (url, proc, log):
        answer = httpx.get(url + "/env", timeout=30)
        assert answer.status_code == 200, log.read_text()
        data = answer.json()
        env = data["env"]
        assert env["FORGE_APP_ID"] == "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000000"
        assert env["FORGE_JWKS_URL"] == f"{url}/.well-known/jwks.json"
        assert env["ATLASSIAN_API_URL"].startswith("http://127.0.0.1:")
        assert env["ALLOW_INSECURE_LOOPBACK"] == "true"
        assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert env["AWS_DEFAULT_REGION"] == "us-east-1"
        assert env["TABLE_NAME"] in data["tables"]  # the function reaches moto's table
        sim = httpx.get(env["ATLASSIAN_API_URL"] + "/admin/v1/orgs", headers={"Authorization": "Bearer x"})
        assert sim.status_code == 401  # the built-in simulator answers there
        assert httpx.post(url + "/dev/token").status_code == 200
        assert httpx.get(url + "/.well-known/jwks.json").json()["keys"]

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        output = log.read_text()
        assert f"curl -s -X POST {url}/dev/token" in output
        assert "sim-admin-key-unscoped-GOOD1" in output and "sim-token-classic-GOOD2" in output
        try:
            os.kill(data["pid"], 0)
            container_alive = True
        except ProcessLookupError:
            container_alive = False
        assert not container_alive


def test_settings_from_the_environment_are_used_as_they_are(tmp_path: Path) -> None:
    settings = {
        "FORGE_APP_ID": "ari:cloud:ecosystem::app/11111111-1111-4111-8111-111111111111",
        "FORGE_JWKS_URL": "http://127.0.0.1:1/jwks.json",
        "ATLASSIAN_API_URL": "http://127.0.0.1:2",
        "ALLOW_INSECURE_LOOPBACK": "false",
        "EXPIRY_WARNING_DAYS": "3",
        "REMINDER_DAYS": "10,2",
    }
    with local_stack(tmp_path, **settings) as (url, proc, log):
        env = httpx.get(url + "/env", timeout=30).json()["env"]
        assert {k: env[k] for k in settings} == settings
        assert httpx.post(url + "/dev/token").status_code == 404
        assert httpx.get(url + "/.well-known/jwks.json").status_code == 404
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        assert "built-in simulator" not in log.read_text()
