"""The local cloud driven by the clients people already use, installed from PyPI and pinned.

One local cloud (private state folder, free ports on 127.0.0.1) serves every test of this module. The
clients are the real ones: requests-aws4auth and awscurl sign calls to the IAM-authorized orders API,
AWS CLI v1 (``awscli`` from PyPI; v2 is not published there) invokes functions, reads their log group
and describes alarms.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from requests_aws4auth import AWS4Auth

from local_cloud.cloud import LocalCloud
from local_cloud.settings import REGION, Ports

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    state = tmp_path_factory.mktemp("clients-cloud")
    with LocalCloud(state_dir=state, ports=Ports.from_base(0), log=lambda message: None) as running:
        yield running


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
