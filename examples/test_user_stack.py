"""A user's tests of their own stack with the testing kit: ``pip install 'serverless-patterns[testing]'``.

Snapshot (syrupy), cdk-nag and cfn-lint findings, the handler run on moto resources built from the
synthesized template, under credentials that carry exactly what its role grants. Run with ``pytest``;
after an intended infrastructure change, ``pytest --snapshot-update`` and review the diff.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_dynamodb as dynamodb
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from moto import mock_aws
from serverless_patterns import FunctionOptions, ServerlessFunction
from serverless_patterns.testing import (
    EmulatedStack,
    cfn_lint_findings,
    coverage_report,
    function_under_test,
    logical_id,
    nag_findings,
    snapshot_template,
    template_of,
)
from syrupy.assertion import SnapshotAssertion

from constructs import Construct

CODE = Path(__file__).resolve().parent / "lambda_src" / "invoicer"


class InvoiceStack(Stack):
    """The stack under test: a function that may only put invoices into its table."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.table = dynamodb.TableV2(
            self,
            "Invoices",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
        )
        self.invoicer = ServerlessFunction(
            self,
            "Invoicer",
            code_path=CODE,
            function=FunctionOptions(environment={"TABLE_NAME": self.table.table_name}),
        )
        self.table.grant(self.invoicer.function, "dynamodb:PutItem")


@pytest.fixture(scope="module")
def stack() -> InvoiceStack:
    return InvoiceStack(App(), "Invoices")


@pytest.fixture(scope="module")
def template(stack: InvoiceStack) -> dict[str, Any]:
    return template_of(stack)


def test_the_template_matches_its_snapshot(stack: InvoiceStack, snapshot: SnapshotAssertion) -> None:
    assert snapshot_template(stack) == snapshot  # asset hashes normalized: editing the handler is no diff


def test_no_cdk_nag_or_cfn_lint_findings(stack: InvoiceStack, template: dict[str, Any]) -> None:
    assert nag_findings(stack) == []
    assert cfn_lint_findings(template) == []


@pytest.fixture
def cloud(template: dict[str, Any]) -> Iterator[EmulatedStack]:
    with mock_aws():
        yield EmulatedStack(template)  # the table, created from the template's own key schema


def test_the_handler_stores_an_invoice_under_its_own_role(stack: InvoiceStack, cloud: EmulatedStack) -> None:
    with function_under_test(cloud, logical_id(stack.invoicer.function), CODE) as invoicer:
        assert invoicer.invoke({"id": "inv-1", "amount": "12.50"}) == {"statusCode": 200}
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(cloud.ref(logical_id(stack.table)))
    assert table.get_item(Key={"id": "inv-1"})["Item"]["amount"] == "12.50"


def test_without_its_grant_the_handler_is_denied(stack: InvoiceStack, cloud: EmulatedStack) -> None:
    function_id = logical_id(stack.invoicer.function)
    with (
        function_under_test(cloud, function_id, CODE, actions=set()) as invoicer,
        pytest.raises(ClientError, match="AccessDenied"),
    ):
        invoicer.invoke({"id": "inv-2"})


def test_every_action_the_role_grants_the_code_was_used(stack: InvoiceStack) -> None:
    function_id = logical_id(stack.invoicer.function)
    report = [line for line in coverage_report() if line.startswith(f"{function_id}:")]
    assert report == [f"{function_id}: 1 granted to the code, all exercised"]
