"""The testing kit keeps its own boto3 clients for the process (``admin_clients``), safely."""

from __future__ import annotations

import pytest
from moto import mock_aws
from serverless_patterns.testing.admin_clients import admin_client


def test_a_kept_client_is_reused_and_each_later_mock_intercepts_it() -> None:
    with mock_aws():
        sqs = admin_client("sqs", "us-east-1")
        sqs.create_queue(QueueName="first-mock")
        assert admin_client("sqs", "us-east-1") is sqs
    with mock_aws():  # a fresh moto: the kept client talks to it, not to the first one (nor to AWS)
        assert admin_client("sqs", "us-east-1") is sqs
        assert "QueueUrls" not in sqs.list_queues()
        sqs.create_queue(QueueName="second-mock")
        assert [url.rsplit("/", 1)[-1] for url in sqs.list_queues()["QueueUrls"]] == ["second-mock"]


def test_another_region_or_other_credentials_get_their_own_client(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws():
        kept = admin_client("sqs", "us-east-1")
        assert admin_client("sqs", "eu-west-1") is not kept
        with monkeypatch.context() as patched:
            patched.setenv("AWS_ACCESS_KEY_ID", "another-key")
            other = admin_client("sqs", "us-east-1")
            assert other is not kept and other._request_signer._credentials.access_key == "another-key"
        assert admin_client("sqs", "us-east-1") is kept
