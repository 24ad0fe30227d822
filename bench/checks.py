"""Benchmark of the scheduled checks: 10,000 tenants through the dispatcher and the worker, in process.

AWS is moto: in this process by default, or with `--aws process` moto's server in a child process,
reached over HTTP as Lambda reaches AWS. Atlassian is the simulator in a child process, adding 100 ms to
every answer. The real handlers run on the events Lambda would give them: the dispatcher on the schedule's
input, the worker on batches of the queue's own messages (BatchSize 100, as in template.yaml).

Prints, from one run: tenants per second for the worker as built (CHECK_CONCURRENCY=25) and for a
sequential baseline (CHECK_CONCURRENCY=1: one tenant, one request at a time) on a sample of the tenants,
their ratio, the most Atlassian requests in flight at once, the DynamoDB calls the dispatcher made, and
peak memory. `make bench-checks` runs it; see docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import os
import resource
import sys
import threading
import time
import tracemalloc
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any

from local.atlassian_sim import ADMIN_ACCOUNT
from local.lambdas import LambdaContext, function_module

REPO = Path(__file__).resolve().parents[1]
BATCH_SIZE = 100  # the worker's SQS BatchSize in template.yaml
KEY = "sim-admin-key-unscoped-GOOD1"
TOKEN = ("ada@acme.test", "sim-token-classic-GOOD2")
CHECK_BUDGET = 6  # Atlassian requests per tenant's check, one page per listing


# --- the simulator and moto, each in a process of its own (their CPU is not the worker's) ---------


def _simulator(latency_ms: int, conn: Connection) -> None:
    from local.atlassian_sim import AtlassianSimulator

    sim = AtlassianSimulator(latency_ms=latency_ms)
    conn.send(sim.start())
    while True:
        command = conn.recv()
        if command == "reset":
            sim.reset()
            conn.send(True)
        elif command == "stats":
            conn.send({"requests": len(sim.requests), "max_in_flight": sim.max_in_flight})
        else:
            sim.stop()
            conn.send(True)
            return


def _moto_server(conn: Connection) -> None:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    index_moto_secrets()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    conn.send("http://{}:{}".format(*server.get_host_and_port()))
    while True:
        command = conn.recv()
        if command == "rss_mb":
            conn.send(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        else:
            server.stop()
            conn.send(True)
            return


class Child:
    """A spawned process serving on loopback, told what to do through a pipe."""

    def __init__(self, target: Any, *args: Any) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=target, args=(*args, child), daemon=True)
        self._process.start()
        self.url: str = self._conn.recv()

    def ask(self, command: str) -> Any:
        self._conn.send(command)
        return self._conn.recv()

    def stop(self) -> None:
        self.ask("stop")
        self._process.join(5)


# --- helpers ------------------------------------------------------------------------------------


def context() -> LambdaContext:
    return LambdaContext(
        function_name="bench",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:bench",
        aws_request_id="bench",
    )


def seed(n: int, sim_url: str) -> list[str]:
    """n tenants, each with a valid key and token stored as the change routes store them."""
    import boto3

    from api_info.credentials import kind_named
    from api_info.credentials.ref import CredentialRef
    from api_info.records import CredentialRecord, LastCheck, Tenant
    from api_info.wiring import services

    secrets_store = services().secrets
    dynamodb, secrets = boto3.client("dynamodb"), boto3.client("secretsmanager")
    table = services().settings.table_name
    now = "2026-11-01T00:00:00Z"
    ids: list[str] = []
    items: list[dict[str, Any]] = []
    for i in range(n):
        tenant_id = f"ari:cloud:ecosystem::installation/{uuid.UUID(int=i + 1)}"
        ids.append(tenant_id)
        cloud_id = str(uuid.UUID(int=10**9 + i))
        tenant = Tenant(installation_id=tenant_id, cloud_id=cloud_id, site_url=sim_url)
        items.append(
            {
                "PK": f"TENANT#{tenant_id}",
                "SK": "TENANT",
                "entity": "tenant",
                **tenant.to_item(),
            }
        )
        for credential, value, facts in (
            ("apiKey", {"apiKey": KEY}, {"organization": {"id": "sim-org-acme", "name": "Acme"}}),
            (
                "apiToken",
                {"email": TOKEN[0], "apiToken": TOKEN[1]},
                {"email": TOKEN[0], "account": {"accountId": "sim-account-ada"}},
            ),
        ):
            version = str(uuid.uuid4())
            ref = CredentialRef(tenant_id, kind_named(credential))
            name = secrets_store.new_name(ref, version)
            secrets.create_secret(Name=name, SecretString=json.dumps(value), ClientRequestToken=version)
            record = CredentialRecord.from_item(
                {
                    "status": "valid",
                    "maskedValue": "••••••••" + KEY[-4:],
                    "secretVersionId": version,
                    "secretName": name,
                    "lastUpdatedAt": now,
                    "createdBy": {"type": "atlassian", "accountId": ADMIN_ACCOUNT},
                    "lastCheck": LastCheck(at=now, outcome="ok"),
                    **facts,
                }
            )
            items.append(
                {
                    **ref.key,
                    **record.to_item(),
                }
            )
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    for start in range(0, len(items), 25):
        requests = [
            {"PutRequest": {"Item": {k: serializer.serialize(v) for k, v in item.items()}}}
            for item in items[start : start + 25]
        ]
        dynamodb.batch_write_item(RequestItems={table: requests})
    return ids


class Drain:
    """Stands in for Lambda's SQS poller while the dispatcher runs: after each SendMessageBatch the
    dispatcher makes, the queue is emptied (received and deleted) and the messages kept for the
    worker. Every moto SQS call scans the whole queue, so 10,000 waiting messages would make the
    dispatch quadratic; Lambda's poller keeps a real queue short the same way."""

    def __init__(self, queue_url: str) -> None:
        import boto3

        from api_info.messaging import CheckQueue

        self.sqs = boto3.client("sqs")
        self.url = queue_url
        self.messages: list[dict[str, Any]] = []
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._queue_class = CheckQueue
        self._send_batch = CheckQueue._send_batch
        drain = self

        def send_then_drain(queue: Any, bodies: Any) -> int:
            sent: int = drain._send_batch(queue, bodies)
            drain.empty()
            return sent

        CheckQueue._send_batch = send_then_drain  # type: ignore[method-assign]

    def empty(self) -> None:
        with self._lock:
            started = time.perf_counter()
            while True:
                answer = self.sqs.receive_message(
                    QueueUrl=self.url, MaxNumberOfMessages=10, AttributeNames=["All"]
                )
                received = answer.get("Messages", [])
                if not received:
                    break
                self.messages += received
                self.sqs.delete_message_batch(
                    QueueUrl=self.url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)
                    ],
                )
            self.seconds += time.perf_counter() - started

    def stop(self) -> list[dict[str, Any]]:
        self.empty()
        self._queue_class._send_batch = self._send_batch  # type: ignore[method-assign]
        return self.messages


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


@dataclass
class WorkerRun:
    tenants: int
    seconds: float
    cpu_seconds: float
    failed: int
    max_in_flight: int
    invocation_seconds: list[float]
    requests: int = 0  # Atlassian requests the simulator answered

    @property
    def rate(self) -> float:
        return self.tenants / self.seconds


def run_worker(worker: ModuleType, batches: list[dict[str, Any]], simulator: Child) -> WorkerRun:
    """Invoke the worker on each batch in turn, as one Lambda instance would be."""
    simulator.ask("reset")
    failed, each = 0, []
    cpu, started = time.process_time(), time.perf_counter()
    for event in batches:
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # each invocation's EMF metrics blob
            answer = worker.lambda_handler(event, context())
        each.append(time.perf_counter() - t)
        failed += len(answer["batchItemFailures"])
    stats = simulator.ask("stats")
    return WorkerRun(
        tenants=sum(len(b["Records"]) for b in batches),
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu,
        failed=failed,
        max_in_flight=stats["max_in_flight"],
        invocation_seconds=sorted(each),
        requests=stats["requests"],
    )


def index_moto_secrets() -> None:
    """Give moto's secret store the O(1) lookup by name that Secrets Manager has.

    moto's `SecretsStore` finds a secret by scanning every secret for a matching ARN or name, several
    times per `GetSecretValue` (moto/secretsmanager/models.py), so with 20,000 secrets seeded the
    10,000th tenant's secrets cost about 10,000 times the first one's: the worker's CPU per tenant grew
    over the run (1.2 s of CPU for the first invocations of 100 tenants, 4.6 to 5.1 s around the 85th),
    while the baseline, timed on the first tenants only, never paid it. The store is a dict keyed by
    name, so a name found there is the answer the scan would give; anything else (an ARN) still scans.
    """
    from moto.secretsmanager.models import SecretsStore

    scan_getitem, scan_contains, scan_get = (
        SecretsStore.__getitem__,
        SecretsStore.__contains__,
        SecretsStore.get,
    )

    def getitem(self: Any, key: str) -> Any:
        secret = dict.get(self, key)
        return secret if secret is not None and secret.name == key else scan_getitem(self, key)

    def contains(self: Any, key: object) -> bool:
        secret = dict.get(self, key) if isinstance(key, str) else None
        return (secret is not None and secret.name == key) or scan_contains(self, key)

    def get(self: Any, key: str) -> Any:
        secret = dict.get(self, key)
        return secret if secret is not None and secret.name == key else scan_get(self, key)

    SecretsStore.__getitem__ = getitem  # type: ignore[method-assign]
    SecretsStore.__contains__ = contains  # type: ignore[method-assign]
    SecretsStore.get = get  # type: ignore[method-assign]


def keep_moto_tables_in_transactions() -> None:
    """Keep moto's TransactWriteItems from copying every table it names, once per action.

    moto backs a transaction up with a deep copy of each table it touches, taken again for each of its
    actions (moto/dynamodb/models/__init__.py), to put back if a condition fails. The worker writes the
    history in transactions of 25 events, each tenant's conditioned on its tenant item: with 10,000
    tenants seeded, each one copied a 40,000-item table about 50 times, and the run was killed for
    memory at 23 GB. DynamoDB copies nothing. No tenant is uninstalled here, so no condition fails and
    the backup is never put back: tables are left uncopied; every other value moto copies still is.
    """
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    class KeepTables:
        @staticmethod
        def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    models.copy = KeepTables  # type: ignore[assignment]


def set_concurrency(value: int) -> None:
    from api_info import settings, wiring

    os.environ["CHECK_CONCURRENCY"] = str(value)
    for cached in (settings.get_settings, wiring.services, wiring.check_services):
        cached.cache_clear()


# --- the run ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.checks", description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=200, help="tenants checked one at a time")
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument(
        "--aws",
        choices=("in-process", "process"),
        default="in-process",
        help="moto's mock_aws() in this process (default), where its emulation shares the worker's GIL, "
        "or moto's server in a process of its own, reached over HTTP as Lambda reaches AWS",
    )
    args = parser.parse_args(argv)

    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    sys.path[:0] = [str(REPO / "layers" / "shared"), str(REPO)]

    simulator = Child(_simulator, args.latency_ms)
    moto = Child(_moto_server) if args.aws == "process" else None
    try:
        return _run(args, simulator, moto)
    finally:
        simulator.stop()
        if moto:
            moto.stop()


def _run(args: argparse.Namespace, simulator: Child, moto: Child | None) -> int:
    from moto import mock_aws

    from local.resources import create_resources

    if moto:
        os.environ["AWS_ENDPOINT_URL"] = moto.url
    else:
        index_moto_secrets()
        keep_moto_tables_in_transactions()
    with contextlib.nullcontext() if moto else mock_aws():
        resources = create_resources(
            REPO / "template.yaml",
            parameter_overrides={"ForgeAppId": "bench"},
            endpoint_url=moto.url if moto else None,
        )
        os.environ.update(resources.functions["CheckWorkerFunction"])
        os.environ.update(
            {
                "FORGE_APP_ID": "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000000",
                "ATLASSIAN_API_URL": simulator.url,
                "ALLOW_INSECURE_LOOPBACK": "true",
            }
        )
        queue_url = resources.refs["CheckQueue"]
        queue_arn = resources.arns["CheckQueue"]
        from api_info import wiring
        from api_info.observability import logger

        logger.setLevel("WARNING")  # keep the figures readable; nothing above WARNING is logged here

        dispatcher = function_module("DispatchChecksFunction")
        worker = function_module("CheckWorkerFunction")

        t = time.perf_counter()
        ids = seed(args.tenants, simulator.url)
        print(
            f"seeded {len(ids)} tenants (tenant item, key and token each) in {time.perf_counter() - t:.0f} s"
        )

        # Dispatcher: every tenant to the queue; count its DynamoDB calls.
        calls: list[str] = []
        hook = wiring.dynamodb_client().meta.events
        hook.register("before-call.dynamodb", lambda model, **_: calls.append(model.name), unique_id="bench")
        drain = Drain(queue_url)
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            sent = dispatcher.lambda_handler(
                {"scheduledTime": "2026-11-28T03:00:00Z", "executionId": "bench"}, context()
            )["tenants"]
        hook.unregister("before-call.dynamodb", unique_id="bench")
        messages = drain.stop()
        dispatch_seconds = time.perf_counter() - t - drain.seconds
        assert sent == len(messages) == args.tenants, (sent, len(messages))
        batches = [
            sqs_event(messages[i : i + BATCH_SIZE], queue_arn) for i in range(0, len(messages), BATCH_SIZE)
        ]

        # Sequential baseline on a sample: one tenant, one Atlassian request at a time.
        set_concurrency(1)
        baseline = run_worker(worker, batches[: max(1, args.baseline // BATCH_SIZE)], simulator)

        # The worker as built, on every tenant.
        set_concurrency(25)
        built = run_worker(worker, batches, simulator)

        # The worker's own allocations during one more invocation (traced, so not timed).
        tracemalloc.start()
        with contextlib.redirect_stdout(io.StringIO()):
            worker.lambda_handler(batches[0], context())
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    ratio = built.rate / baseline.rate
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    aws_memory = (
        f"moto's server process: {moto.ask('rss_mb'):.0f} MB" if moto else "moto's in-memory AWS included"
    )
    where = "moto in a process of its own" if moto else "moto in this process"
    median = built.invocation_seconds[len(built.invocation_seconds) // 2]
    lines = [
        f"tenants: {args.tenants} (key and token each); Atlassian: +{args.latency_ms} ms per request; "
        f"worker batch: {BATCH_SIZE}; AWS: {where}",
        f"dispatcher: {sent} tenants queued in {dispatch_seconds:.1f} s (moto's SQS, draining excluded), "
        f"DynamoDB calls: {len(calls)} ({', '.join(sorted(set(calls)))})",
        f"worker as built (25 threads): {built.rate:.1f} tenants/s over {built.tenants} tenants "
        f"({built.seconds:.0f} s, median invocation {median:.2f} s, "
        f"CPU {built.cpu_seconds / built.tenants * 1000:.1f} ms per tenant, failed items {built.failed})",
        f"sequential baseline (1 thread): {baseline.rate:.2f} tenants/s over {baseline.tenants} tenants "
        f"({baseline.seconds:.0f} s, CPU {baseline.cpu_seconds / baseline.tenants * 1000:.1f} ms per tenant, "
        f"failed items {baseline.failed})",
        f"ratio: {ratio:.1f}x",
        f"Atlassian requests in flight at most: {built.max_in_flight} (baseline {baseline.max_in_flight})",
        # The budget of a check: the key's organizations, user-management probe, workspace search and key
        # listing; the token's /myself and token listing (one page each here).
        f"Atlassian requests per tenant: {built.requests / built.tenants:.1f} (budget {CHECK_BUDGET} "
        f"{'met' if built.requests <= CHECK_BUDGET * built.tenants else 'NOT met'})",
        f"peak memory: {peak_rss_mb:.0f} MB RSS of the benchmark process ({aws_memory}); "
        f"one worker invocation allocated at most {traced_peak / 2**20:.1f} MB",
        "targets: ratio >= 20x {}; in flight <= 25 {}; dispatcher DynamoDB calls <= 20 {}".format(
            *("met" if ok else "NOT met" for ok in (ratio >= 20, built.max_in_flight <= 25, len(calls) <= 20))
        ),
    ]
    print("\n".join(lines))
    return 0 if built.failed == baseline.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
