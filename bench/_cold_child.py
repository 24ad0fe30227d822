"""One fresh interpreter of the cold-start benchmark, run by bench/cold_start.py; it imports nothing
before the clock starts.

    python -S bench/_cold_child.py floor RESULT
    python -S bench/_cold_child.py function RESULT [EVENT REPLAY]

floor: `import boto3` and one DynamoDB client. function: import the handler module (`app`, from
LAMBDA_TASK_ROOT on sys.path) and make its first objects (the services and the DynamoDB client);
with EVENT and REPLAY, then invoke the handler once on EVENT, AWS answered instantly from REPLAY
(the calls that request made over moto, in order) and Atlassian by the simulator over HTTP.
Writes {"import", "init", "first": [wall ms, cpu ms], "status", "pydantic": [loaded after init, after
the first request]} as JSON to RESULT.
"""

import sys
import time

START = (time.perf_counter(), time.process_time())


def lap(since: tuple[float, float]) -> list[float]:
    return [(time.perf_counter() - since[0]) * 1000, (time.process_time() - since[1]) * 1000]


def main() -> None:
    mode, result_path = sys.argv[1], sys.argv[2]
    result: dict[str, object] = {}
    if mode == "floor":
        import boto3

        boto3.client("dynamodb")
        result["init"] = lap(START)
    else:
        import app  # type: ignore[import-not-found]

        result["import"] = lap(START)
        from api_info import wiring

        wiring.services()
        wiring.dynamodb_client()
        result["init"] = lap(START)
        result["pydantic"] = ["pydantic" in sys.modules]
        if len(sys.argv) > 4:
            result.update(first_request(app, sys.argv[3], sys.argv[4]))
            result["pydantic"].append("pydantic" in sys.modules)
    import json

    with open(result_path, "w") as handle:
        json.dump(result, handle)


def first_request(app: object, event_path: str, replay_path: str) -> dict[str, object]:
    import json
    import os
    import pickle

    import boto3
    from botocore.awsrequest import AWSResponse

    from api_info import wiring

    with open(event_path) as handle:
        event = json.load(handle)
    with open(replay_path, "rb") as handle:
        calls = pickle.load(handle)  # noqa: S301 - written by bench/warm.py in this run
    pending: dict[str, list[tuple[str, int, dict[str, object]]]] = {}
    for service, operation, status, parsed in calls:
        pending.setdefault(service, []).append((operation, status, parsed))

    def answer(model: object, **kwargs: object) -> tuple[AWSResponse, dict[str, object]]:
        service = model.service_model.service_name  # type: ignore[attr-defined]
        operation, status, parsed = pending[service].pop(0)
        if operation != model.name:  # type: ignore[attr-defined]
            raise AssertionError(f"replay expected {operation}, got {model.name}")  # type: ignore[attr-defined]
        return AWSResponse(None, status, {}, None), parsed

    wiring.dynamodb_client().meta.events.register("before-call.*.*", answer)
    # Clients made later (Secrets Manager, on a change route's first request) copy the session's hooks.
    boto3.DEFAULT_SESSION._session.register("before-call.*.*", answer)  # type: ignore[union-attr]

    class Context:
        function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        function_version = "$LATEST"
        memory_limit_in_mb = 256
        invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        aws_request_id = "00000000-0000-4000-8000-000000000001"
        log_group_name = log_stream_name = ""

        def get_remaining_time_in_millis(self) -> int:
            return 15_000

    start = (time.perf_counter(), time.process_time())
    response = app.lambda_handler(event, Context())  # type: ignore[attr-defined]
    first = lap(start)
    left = {service: [op for op, *_ in calls] for service, calls in pending.items() if calls}
    if left:
        raise AssertionError(f"the first request made fewer AWS calls than recorded: {left} left")
    return {"first": first, "status": response["statusCode"]}


if __name__ == "__main__":
    main()
