"""The local cloud driven by the clients people already use, installed from PyPI and pinned.

The session's local cloud (tests/local/conftest.py) serves every test of this module. The
clients are the real ones: requests-aws4auth and awscurl sign calls to the IAM-authorized orders API,
AWS CLI v1 (``awscli`` from PyPI; v2 is not published there) invokes functions, reads their log group
and describes alarms.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from requests_aws4auth import AWS4Auth

from local_cloud.alarms import EVALUATOR
from local_cloud.cloud import LocalCloud
from local_cloud.settings import REGION

BIN = Path(sys.executable).parent


def _orders_url(cloud: LocalCloud) -> str:
    return next(url for name, url in cloud.endpoints.apis.items() if "rder" in name) + "orders"


def _admin(cloud: LocalCloud) -> dict[str, str]:
    assert cloud.moto is not None
    return cloud.moto.admin_credentials


def _auth(
    cloud: LocalCloud, *, secret: str | None = None, region: str = REGION, service: str = "execute-api"
):  # type: ignore[no-untyped-def]
    creds = _admin(cloud)
    return AWS4Auth(creds["AWS_ACCESS_KEY_ID"], secret or creds["AWS_SECRET_ACCESS_KEY"], region, service)


ORDER = {"customer": "c-7", "items": [{"sku": "pen", "quantity": 3}]}


def test_requests_aws4auth_creates_and_reads_an_order(cloud: LocalCloud) -> None:
    created = requests.post(_orders_url(cloud), json=ORDER, auth=_auth(cloud), timeout=30)
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    read = requests.get(f"{_orders_url(cloud)}/{order_id}", auth=_auth(cloud), timeout=30)
    assert read.status_code == 200, read.text
    assert read.json()["customer"] == "c-7"


def test_awscurl_creates_an_order(cloud: LocalCloud) -> None:
    creds = _admin(cloud)
    result = subprocess.run(
        [
            str(BIN / "awscurl"),
            "--service",
            "execute-api",
            "--region",
            REGION,
            "-X",
            "POST",
            "-d",
            json.dumps(ORDER),
            "-H",
            "Content-Type: application/json",
            _orders_url(cloud),
        ],
        env={
            **os.environ,
            "AWS_ACCESS_KEY_ID": creds["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": creds["AWS_SECRET_ACCESS_KEY"],
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["customer"] == "c-7"


def _message(response: requests.Response) -> str:
    return str(response.json().get("message") or response.json().get("Message"))


def test_a_wrong_secret_is_a_403_with_api_gateways_message(cloud: LocalCloud) -> None:
    response = requests.post(_orders_url(cloud), json=ORDER, auth=_auth(cloud, secret="wrong"), timeout=30)
    assert response.status_code == 403
    assert _message(response).startswith("The request signature we calculated does not match")


def test_an_unknown_key_is_a_403(cloud: LocalCloud) -> None:
    auth = AWS4Auth("AKIAUNKNOWNKEY000000", "secret", REGION, "execute-api")
    response = requests.post(_orders_url(cloud), json=ORDER, auth=auth, timeout=30)
    assert response.status_code == 403
    assert _message(response) == "The security token included in the request is invalid."


@pytest.mark.parametrize(
    ("region", "service", "message"),
    [
        ("eu-west-1", "execute-api", "Credential should be scoped to a valid region"),
        (REGION, "lambda", "Credential should be scoped to correct service: 'execute-api'"),
    ],
)
def test_a_scope_for_another_region_or_service_is_a_403(
    cloud: LocalCloud, region: str, service: str, message: str
) -> None:
    response = requests.post(
        _orders_url(cloud), json=ORDER, auth=_auth(cloud, region=region, service=service), timeout=30
    )
    assert response.status_code == 403
    assert message in _message(response)


def test_a_request_signed_16_minutes_ago_is_a_403(cloud: LocalCloud) -> None:
    auth = _auth(cloud)
    then = datetime.now(UTC) - timedelta(minutes=16)
    prepared = requests.Request("GET", _orders_url(cloud) + "/nothing").prepare()
    prepared.headers["x-amz-date"] = then.strftime("%Y%m%dT%H%M%SZ")
    auth.date = then.strftime("%Y%m%d")  # the scope's date matches the request's
    auth.signing_key = type(auth.signing_key)(  # sign with a key for that date
        _admin(cloud)["AWS_SECRET_ACCESS_KEY"], REGION, "execute-api", then.strftime("%Y%m%d")
    )
    signed = auth(prepared)
    signed.headers["x-amz-date"] = then.strftime("%Y%m%dT%H%M%SZ")
    response = requests.Session().send(signed, timeout=30)
    assert response.status_code == 403
    assert _message(response).startswith("Signature expired")


def test_a_body_changed_after_signing_is_refused_and_not_stored(cloud: LocalCloud) -> None:
    prepared = requests.Request("POST", _orders_url(cloud), json=ORDER).prepare()
    signed = _auth(cloud)(prepared)
    assert "x-amz-content-sha256" in {key.lower() for key in signed.headers}
    signed.body = json.dumps({**ORDER, "customer": "c-tampered"}).encode()
    signed.headers["Content-Length"] = str(len(signed.body))
    response = requests.Session().send(signed, timeout=30)
    assert response.status_code == 403
    assert _message(response).startswith("The request signature we calculated does not match")


def test_a_user_without_execute_api_invoke_is_a_403(cloud: LocalCloud) -> None:
    assert cloud.moto is not None
    iam = cloud.moto.client("iam")
    iam.create_user(UserName="no-invoke")
    key = iam.create_access_key(UserName="no-invoke")["AccessKey"]
    auth = AWS4Auth(key["AccessKeyId"], key["SecretAccessKey"], REGION, "execute-api")
    response = requests.post(_orders_url(cloud), json=ORDER, auth=auth, timeout=30)
    assert response.status_code == 403
    assert "is not authorized to perform: execute-api:Invoke" in _message(response)


# ---- AWS CLI v1 -----------------------------------------------------------------------------------
BOOM = """
import os
def handler(event, context):
    print(f"hello from boom {event.get('n')}")
    if event.get("fail"):
        raise ValueError("boom asked to fail")
    return {"echo": event, "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"]}
"""


def _cli_env(cloud: LocalCloud, tmp_path: Path) -> dict[str, str]:
    assert cloud.moto is not None
    return {
        **os.environ,
        **_admin(cloud),
        "AWS_ENDPOINT_URL": cloud.moto.endpoint_url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }


def _aws(cloud: LocalCloud, tmp_path: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(BIN / "aws"), *args],
        env=_cli_env(cloud, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def boom(cloud: LocalCloud, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A function created through the Lambda API after the cloud started (served without a restart)."""
    assert cloud.moto is not None
    folder = tmp_path_factory.mktemp("boom")
    archive = folder / "boom.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("boom.py", BOOM)
    assert cloud.runtime is not None
    role = next(iter(cloud.runtime.specs.values())).role_arn  # any function role will do
    lambda_client = cloud.moto.client("lambda")
    lambda_client.create_function(
        FunctionName="boom",
        Runtime="python3.12",
        Role=role,
        Handler="boom.handler",
        Code={"ZipFile": archive.read_bytes()},
        Timeout=10,
    )
    lambda_client.publish_version(FunctionName="boom")
    lambda_client.create_alias(FunctionName="boom", Name="live", FunctionVersion="1")
    sqs = cloud.moto.client("sqs")
    queue_url = sqs.create_queue(QueueName="boom-failures")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    lambda_client.put_function_event_invoke_config(
        FunctionName="boom",
        Qualifier="live",
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    return queue_url


def _invoke(cloud: LocalCloud, tmp_path: Path, *args: str, payload: Any) -> tuple[dict[str, Any], Any]:
    out = tmp_path / "out.json"
    result = _aws(
        cloud,
        tmp_path,
        "lambda",
        "invoke",
        "--function-name",
        "boom",
        "--payload",
        json.dumps(payload),
        *args,
        str(out),
    )
    return json.loads(result.stdout), json.loads(out.read_text() or "null")


def test_cli_invoke_runs_the_function_and_tails_its_log(cloud: LocalCloud, boom: str, tmp_path: Path) -> None:
    answer, payload = _invoke(cloud, tmp_path, "--qualifier", "live", "--log-type", "Tail", payload={"n": 1})
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert answer["ExecutedVersion"] == "1"
    assert payload["echo"] == {"n": 1}
    log = base64.b64decode(answer["LogResult"]).decode()
    assert "hello from boom 1" in log and "START RequestId:" in log and "REPORT RequestId:" in log


def test_cli_invoke_reports_a_function_error(cloud: LocalCloud, boom: str, tmp_path: Path) -> None:
    answer, payload = _invoke(cloud, tmp_path, payload={"fail": True})
    assert answer["StatusCode"] == 200 and answer["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ValueError" and payload["errorMessage"] == "boom asked to fail"
    assert "LogResult" not in answer  # only with --log-type Tail


def test_invoke_qualifiers(cloud: LocalCloud, boom: str, tmp_path: Path) -> None:
    assert cloud.moto is not None
    lambda_client = cloud.moto.client("lambda")
    for qualifier, executed in (("$LATEST", "$LATEST"), ("1", "1"), ("live", "1")):
        answer = lambda_client.invoke(FunctionName="boom", Qualifier=qualifier, Payload=b"{}")
        assert answer["StatusCode"] == 200 and answer["ExecutedVersion"] == executed, qualifier
    arn = lambda_client.get_function(FunctionName="boom")["Configuration"]["FunctionArn"]
    assert lambda_client.invoke(FunctionName=f"{arn}:live", Payload=b"{}")["ExecutedVersion"] == "1"
    for name, qualifier in (("boom", "7"), ("boom", "nope"), ("nobody", "$LATEST")):
        with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
            lambda_client.invoke(FunctionName=name, Qualifier=qualifier, Payload=b"{}")
    result = _aws(
        cloud,
        tmp_path,
        "lambda",
        "invoke",
        "--function-name",
        "boom",
        "--qualifier",
        "7",
        str(tmp_path / "o"),
        ok=False,
    )
    assert result.returncode != 0 and "ResourceNotFoundException" in result.stderr


def test_cli_dry_run(cloud: LocalCloud, boom: str, tmp_path: Path) -> None:
    answer, _ = _invoke(cloud, tmp_path, "--invocation-type", "DryRun", payload={})
    assert answer["StatusCode"] == 204


def test_cli_event_invocation_retries_then_goes_to_its_destination(
    cloud: LocalCloud, boom: str, tmp_path: Path
) -> None:
    answer, _ = _invoke(
        cloud, tmp_path, "--qualifier", "live", "--invocation-type", "Event", payload={"fail": True, "n": 9}
    )
    assert answer["StatusCode"] == 202
    assert cloud.runtime is not None
    cloud.runtime.wait_for_async(timeout=30)
    received = _aws(
        cloud,
        tmp_path,
        "--endpoint-url",
        cloud.moto.endpoint_url if cloud.moto else "",
        "sqs",
        "receive-message",
        "--queue-url",
        boom,
        "--wait-time-seconds",
        "2",
    )
    record = json.loads(json.loads(received.stdout)["Messages"][0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2  # one try, one retry
    assert record["requestPayload"] == {"fail": True, "n": 9}


def test_function_output_reaches_its_log_group(cloud: LocalCloud, boom: str, tmp_path: Path) -> None:
    _invoke(cloud, tmp_path, payload={"n": 42})
    found = _aws(
        cloud,
        tmp_path,
        "logs",
        "filter-log-events",
        "--log-group-name",
        "/aws/lambda/boom",
        "--filter-pattern",
        "hello",
    )
    messages = [event["message"] for event in json.loads(found.stdout)["events"]]
    assert "hello from boom 42" in messages


def test_alarms_are_in_the_state_the_printout_names(cloud: LocalCloud, tmp_path: Path) -> None:
    EVALUATOR.evaluate_now()  # as the local cloud does every cloud minute (issue 15)
    found = _aws(cloud, tmp_path, "cloudwatch", "describe-alarms", "--query", "MetricAlarms[].StateValue")
    states = Counter(json.loads(found.stdout))
    assert states["OK"] >= 1  # evaluated on the local metrics: no longer all INSUFFICIENT_DATA
    printed = ", ".join(f"{count} alarm(s): {state}" for state, count in sorted(states.items()))
    assert f"alarms evaluated every cloud minute: {printed}" in cloud.report()


def test_the_printouts_cli_commands_work_with_cli_v1(cloud: LocalCloud, tmp_path: Path) -> None:
    commands = [
        line.strip()
        for line in cloud.report().splitlines()
        if line.strip().startswith("aws ") and "<" not in line
    ]
    assert commands
    for command in commands:
        for part in command.split(";"):
            argv = [
                arg.replace("$AWS_ENDPOINT_URL", cloud.moto.endpoint_url if cloud.moto else "")
                for arg in part.split()
            ]
            _aws(cloud, tmp_path, *argv[1:])
