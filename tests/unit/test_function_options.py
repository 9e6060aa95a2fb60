"""FunctionOptions and the core table vocabulary: one set of checks and messages for every pattern."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_logs as logs
from serverless_patterns import (
    Deployment,
    FunctionOptions,
    ProvisionedConcurrency,
    ServerlessFunction,
    TableAccess,
    TableOptions,
)

from tests.harness.synth import FIXTURES, new_app


def test_defaults_are_filled_only_where_unset() -> None:
    options = FunctionOptions(memory_size=512)
    filled = options.with_defaults(timeout=Duration.seconds(30), async_max_event_age=Duration.hours(1))
    assert filled.timeout is not None and filled.timeout.to_seconds() == 30
    assert filled.memory_size == 512
    mine = FunctionOptions(timeout=Duration.seconds(5)).with_defaults(timeout=Duration.seconds(30))
    assert mine.timeout is not None and mine.timeout.to_seconds() == 5


def test_pattern_variables_never_override_the_users_and_vice_versa() -> None:
    options = FunctionOptions(environment={"MODE": "fast"})
    merged = options.with_environment({"TABLE_NAME": "t"}, set_by="SomePattern")
    assert merged.environment == {"MODE": "fast", "TABLE_NAME": "t"}
    assert options.environment == {"MODE": "fast"}, "the original is unchanged (frozen)"
    with pytest.raises(
        ValueError, match=r"function.environment must not set TABLE_NAME: SomePattern sets it"
    ):
        FunctionOptions(environment={"TABLE_NAME": "mine"}).with_environment(
            {"TABLE_NAME": "t"}, set_by="SomePattern"
        )


@pytest.mark.parametrize("variable", ["POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"])
def test_the_library_variables_are_not_overridden_silently(variable: str) -> None:
    stack = Stack(new_app(), "Env")
    with pytest.raises(ValueError, match=rf"must not set {variable}: ServerlessFunction sets it"):
        ServerlessFunction(
            stack,
            "Fn",
            code_path=FIXTURES / "visit_counter",
            function=FunctionOptions(environment={variable: "x"}),
        )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"timeout": 30}, r"timeout must be an aws_cdk.Duration .*got int 30"),
        ({"async_max_event_age": 3600}, r"async_max_event_age must be an aws_cdk.Duration"),
        ({"provisioned_concurrency": 2}, r"provisioned_concurrency must be a ProvisionedConcurrency"),
        ({"deployment": "canary"}, r"deployment must be a Deployment .*got str 'canary'"),
        ({"log_retention": 7}, r"log_retention must be a logs.RetentionDays, got int 7"),
        ({"environment": {"PORT": 8080}}, r"environment values must be str .*'PORT': int 8080"),
        ({"handler": 3}, r"handler must be a str"),
    ],
)
def test_wrong_types_are_type_errors_naming_the_argument(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        FunctionOptions(**arguments)


def test_a_function_options_value_is_required_not_a_dict() -> None:
    stack = Stack(new_app(), "Dict")
    with pytest.raises(TypeError, match=r"function must be a FunctionOptions, got dict"):
        ServerlessFunction(stack, "Fn", code_path=FIXTURES / "visit_counter", function={"memory_size": 512})  # type: ignore[arg-type]


def test_reserved_concurrency_is_checked_against_provisioned() -> None:
    with pytest.raises(ValueError, match=r"reserved_concurrency must be at least .* \(10\), got 5"):
        FunctionOptions(reserved_concurrency=5, provisioned_concurrency=ProvisionedConcurrency(min=2, max=10))
    FunctionOptions(reserved_concurrency=10, provisioned_concurrency=ProvisionedConcurrency(min=2, max=10))


def test_options_are_values() -> None:
    one = FunctionOptions(memory_size=512, log_retention=logs.RetentionDays.ONE_MONTH)
    assert one == FunctionOptions(memory_size=512, log_retention=logs.RetentionDays.ONE_MONTH)
    assert Deployment.all_at_once() == Deployment.all_at_once()


# ---- TableAccess and TableOptions --------------------------------------------------------------------
def test_table_access_has_one_validator_with_the_allowed_list() -> None:
    with pytest.raises(ValueError, match=r"must each be one of .*dynamodb:PutItem.*got 'dynamodb:putItem'"):
        TableAccess.of("dynamodb:putItem")
    for bad in ("dynamodb:*", "dynamodb:Put*", "s3:GetObject", "dynamodb:PutItems", ""):
        with pytest.raises(ValueError):
            TableAccess.of(bad)
    with pytest.raises(ValueError, match="at least one action"):
        TableAccess.of()


def test_table_access_levels() -> None:
    assert not TableAccess.read().writes
    assert TableAccess.write().writes
    assert set(TableAccess.read_write().actions) == set(TableAccess.read().actions) | set(
        TableAccess.write().actions
    )
    assert TableAccess.of("dynamodb:Query", "dynamodb:Query").actions == ("dynamodb:Query",)
    assert TableAccess.of("dynamodb:UpdateItem").writes


def test_table_options_take_attributes() -> None:
    with pytest.raises(TypeError, match=r"TableOptions.partition_key must be a dynamodb.Attribute, got str"):
        TableOptions(partition_key="pk")  # type: ignore[arg-type]
    options = TableOptions(
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        global_secondary_indexes=[],
    )
    assert options.global_secondary_indexes == ()
