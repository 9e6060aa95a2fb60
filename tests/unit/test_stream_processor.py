"""StreamProcessor: every validation error, the enhanced fan-out option, dev vs prod, bring-your-own,
function options and the pattern's defaults, one key for the stream and the table."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk import Duration, Environment, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template
from serverless_patterns import (
    Deployment,
    FunctionOptions,
    ProvisionedConcurrency,
    StreamProcessor,
    TableAccess,
    TableOptions,
)
from serverless_patterns.core.table import string_key
from serverless_patterns.testing import nag_findings

from tests.harness.synth import LAMBDA_SRC, SynthesizedApp, new_app

CODE = LAMBDA_SRC / "clickstream"
ESM = "AWS::Lambda::EventSourceMapping"


def build(stack: Stack | None = None, **overrides: Any) -> tuple[Stack, StreamProcessor]:
    stack = stack or Stack(new_app(), "Test")
    props: dict[str, Any] = {
        "code_path": CODE,
        "table_access": TableAccess.of("dynamodb:UpdateItem"),
        **overrides,
    }
    return stack, StreamProcessor(stack, "Clicks", **props)


def regional_stack() -> Stack:
    """A stack with an explicit region: a TableV2 with a customer-managed key needs one."""
    return Stack(new_app(), "Test", env=Environment(region="eu-west-1"))


def role_statements(stack: Stack, processor: StreamProcessor) -> list[dict[str, Any]]:
    """Every statement of the processing function's role's policies, resolved."""
    role_id = stack.resolve(processor.function.role.node.default_child.logical_id)  # type: ignore[union-attr]
    policies = Template.from_stack(stack).find_resources(
        "AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}}
    )
    return [
        statement
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions_on(statements: list[dict[str, Any]], resource: Any) -> set[str]:
    """The actions granted on ``resource`` (alone or among others)."""
    found: set[str] = set()
    for statement in statements:
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        if resource in resources:
            actions = statement["Action"]
            found.update(actions if isinstance(actions, list) else [actions])
    return found


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"batch_size": 0}, "batch_size must be a whole number in 1..10000 records, got 0"),
        ({"batch_size": 10001}, "batch_size must be a whole number in 1..10000 records, got 10001"),
        (
            {"max_batching_window": Duration.seconds(301)},
            "max_batching_window must be 0..300 seconds, got 301",
        ),
        ({"parallelization_factor": 0}, "parallelization_factor must be a whole number in 1..10, got 0"),
        ({"parallelization_factor": 11}, "parallelization_factor must be a whole number in 1..10, got 11"),
        ({"retry_attempts": -1}, "retry_attempts must be a whole number in 0..10000, got -1"),
        ({"retry_attempts": 10001}, "retry_attempts must be a whole number in 0..10000, got 10001"),
        ({"max_record_age": Duration.seconds(59)}, "max_record_age must be 60..604800 seconds, got 59"),
        (
            {"max_record_age": Duration.days(8), "retention": Duration.days(30)},
            "max_record_age must be 60..604800 seconds, got 691200",
        ),
        (
            {"max_record_age": Duration.hours(24)},
            "max_record_age must be shorter than the stream retention (24 hours)",
        ),
        ({"tumbling_window": Duration.seconds(901)}, "tumbling_window must be 0..900 seconds, got 901"),
        (
            {"retention": Duration.hours(23)},
            "retention must be a whole number of hours in 24..8760, got 23 hours",
        ),
        (
            {"retention": Duration.hours(8761)},
            "retention must be a whole number of hours in 24..8760, got 8761 hours",
        ),
        (
            {"retention": Duration.minutes(1530)},
            "retention must be a whole number of hours in 24..8760, got 25.5 hours",
        ),
        ({"shard_count": 0}, "shard_count must be a whole number in 1..10000 shards, got 0"),
        (
            {"iterator_age_threshold": Duration.seconds(0)},
            "iterator_age_threshold must be 1..86400 seconds, got 0",
        ),
        (
            {"starting_position": lambda_.StartingPosition.AT_TIMESTAMP},
            "starting_position_timestamp is required with StartingPosition.AT_TIMESTAMP, got None",
        ),
        (
            {"starting_position_timestamp": 1700000000.0},
            "starting_position_timestamp applies only to StartingPosition.AT_TIMESTAMP, got 1700000000.0",
        ),
        (
            {"starting_position": lambda_.StartingPosition.AT_TIMESTAMP, "starting_position_timestamp": -1.0},
            "starting_position_timestamp must be a Unix time in seconds (>= 0), got -1.0",
        ),
    ],
)
def test_bad_arguments_are_clear_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        build(**overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"table_access": ["dynamodb:PutItem"]},
            "table_access must be a TableAccess (e.g. TableAccess.write()), got list ['dynamodb:PutItem']",
        ),
        ({"function": {"memory_size": 512}}, "function must be a FunctionOptions, got dict"),
        ({"stream": "arn:aws:kinesis:us-east-1:123456789012:stream/s"}, "stream must be an existing kinesis"),
        ({"table": "clicks"}, "table must be an existing dynamodb table (ITable), got str"),
        ({"table_options": {"partition_key": "id"}}, "table_options must be a TableOptions, got dict"),
        ({"encryption_key": "alias/clicks"}, "encryption_key must be a kms.IKey, got str"),
    ],
)
def test_arguments_of_the_wrong_type_are_type_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match="^" + re.escape(message)):
        build(**overrides)


def test_stream_options_conflict_with_an_existing_stream() -> None:
    stack = Stack(new_app(), "Test")
    stream = kinesis.Stream.from_stream_arn(
        stack, "Existing", "arn:aws:kinesis:us-east-1:123456789012:stream/s"
    )
    with pytest.raises(
        ValueError, match=r"^shard_count, retention apply only to a stream this construct creates"
    ):
        build(stack, stream=stream, shard_count=2, retention=Duration.hours(48))
    assert stack.node.try_find_child("Clicks") is None  # refused before anything was built


def test_table_options_conflict_with_an_existing_table() -> None:
    stack = Stack(new_app(), "Test")
    table = dynamodb.Table.from_table_name(stack, "Existing", "clicks")
    with pytest.raises(
        ValueError,
        match=r"^table_options describe a table this construct creates; leave them out when passing table=",
    ):
        build(stack, table=table, table_options=TableOptions(partition_key=string_key("id")))
    assert stack.node.try_find_child("Clicks") is None


def test_table_options_shape_the_new_table() -> None:
    stack, _ = build(
        table_options=TableOptions(
            partition_key=dynamodb.Attribute(name="page", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="minute", type=dynamodb.AttributeType.NUMBER),
        )
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": [
                {"AttributeName": "page", "KeyType": "HASH"},
                {"AttributeName": "minute", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": Match.array_with([{"AttributeName": "minute", "AttributeType": "N"}]),
            "TimeToLiveSpecification": Match.absent(),
        },
    )


def test_existing_stream_and_table_are_used_with_the_narrowest_grant() -> None:
    stack = Stack(new_app(), "Test")
    stream = kinesis.Stream.from_stream_arn(
        stack, "Existing", "arn:aws:kinesis:us-east-1:123456789012:stream/s"
    )
    table = dynamodb.Table.from_table_name(stack, "Sink", "clicks")
    _, processor = build(stack, stream=stream, table=table)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Kinesis::Stream", 0)
    template.resource_count_is("AWS::DynamoDB::GlobalTable", 0)
    template.has_resource_properties(
        ESM, {"EventSourceArn": "arn:aws:kinesis:us-east-1:123456789012:stream/s"}
    )
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "dynamodb:UpdateItem",
                                "Resource": Match.object_like({"Fn::Join": Match.any_value()}),
                            }
                        )
                    ]
                )
            }
        },
    )
    assert processor.stream is stream and processor.table is table


def test_defaults_on_demand_encrypted_stream_and_a_safe_mapping_on_the_live_alias() -> None:
    stack, processor = build()
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Kinesis::Stream",
        {
            "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
            "RetentionPeriodHours": 24,
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
        },
    )
    template.has_resource_properties(
        ESM,
        {
            "BatchSize": 100,
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": 3,
            "MaximumRecordAgeInSeconds": 21600,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ParallelizationFactor": 1,
            "StartingPosition": "TRIM_HORIZON",
            "FunctionName": Match.object_like({"Fn::Join": ["", Match.array_with([":live"])]}),
            "DestinationConfig": {
                "OnFailure": {
                    "Destination": {"Fn::GetAtt": [Match.string_like_regexp("StreamFailureQueue"), "Arn"]}
                }
            },
        },
    )
    template.has_resource_properties(
        "AWS::SQS::Queue", {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True}
    )
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
        },
    )
    template.has_resource(
        "AWS::DynamoDB::GlobalTable",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "Replicas": [Match.object_like({"DeletionProtectionEnabled": True})],
                    "SSESpecification": {"SSEEnabled": False},  # DynamoDB's owned key
                }
            ),
        },
    )
    template.has_resource("AWS::Kinesis::Stream", {"DeletionPolicy": "Retain"})
    # The pattern's own function defaults: a 30 s timeout, the construct id as service name, TABLE_NAME.
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Timeout": 30,
            "MemorySize": 256,
            "Environment": {
                "Variables": {
                    "TABLE_NAME": {"Ref": stack.resolve(processor.table.node.default_child.logical_id)},  # type: ignore[union-attr]
                    "POWERTOOLS_SERVICE_NAME": "Clicks",
                    "POWERTOOLS_METRICS_NAMESPACE": Match.any_value(),
                }
            },
        },
    )
    assert processor.function.options.timeout is not None
    assert processor.function.options.timeout.to_seconds() == 30
    assert processor.consumer is None
    assert processor.failure_queue is not processor.function.failure_queue
    assert nag_findings(stack) == []


def test_function_options_land_on_the_function() -> None:
    stack, processor = build(
        function=FunctionOptions(
            handler="handler.handler",
            description="counts clicks",
            service_name="clicks",
            memory_size=1024,
            timeout=Duration.seconds(90),
            environment={"MARKER_TTL_SECONDS": "172800"},
            reserved_concurrency=20,
            provisioned_concurrency=ProvisionedConcurrency(min=2, max=10),
            deployment=Deployment.canary(10, Duration.minutes(5)),
        )
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Description": "counts clicks",
            "MemorySize": 1024,
            "Timeout": 90,
            "ReservedConcurrentExecutions": 20,
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "MARKER_TTL_SECONDS": "172800",
                        "TABLE_NAME": Match.any_value(),
                        "POWERTOOLS_SERVICE_NAME": "clicks",
                    }
                )
            },
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Alias", {"ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2}}
    )
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 2, "MaxCapacity": 10}
    )
    template.has_resource_properties(
        "AWS::CodeDeploy::DeploymentConfig",
        {
            "TrafficRoutingConfig": {
                "Type": "TimeBasedCanary",
                "TimeBasedCanary": {"CanaryInterval": 5, "CanaryPercentage": 10},
            }
        },
    )
    # The p99 duration alarm follows the function's own timeout (90% of 90 s).
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"ExtendedStatistic": "p99", "Threshold": 81000}
    )
    assert processor.function.options.memory_size == 1024


def test_table_name_is_the_patterns_own_variable() -> None:
    stack = Stack(new_app(), "Test")
    with pytest.raises(
        ValueError,
        match=r"^function.environment must not set TABLE_NAME: StreamProcessor sets it itself$",
    ):
        build(stack, function=FunctionOptions(environment={"TABLE_NAME": "mine", "OTHER": "ok"}))
    assert stack.node.try_find_child("Clicks") is None  # refused before anything was built


def test_encryption_key_encrypts_the_new_stream_and_table_and_the_role_may_use_it() -> None:
    stack = regional_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    _, processor = build(stack, encryption_key=key, table_access=TableAccess.of("dynamodb:PutItem"))
    template = Template.from_stack(stack)
    key_arn = stack.resolve(key.key_arn)
    template.has_resource_properties(
        "AWS::Kinesis::Stream", {"StreamEncryption": {"EncryptionType": "KMS", "KeyId": key_arn}}
    )
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
            "Replicas": [Match.object_like({"SSESpecification": {"KMSMasterKeyId": key_arn}})],
        },
    )
    on_key = actions_on(role_statements(stack, processor), key_arn)
    assert {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} <= on_key, on_key  # read stream, write table
    assert not any("*" in action for action in on_key)
    assert nag_findings(stack) == []


def test_encryption_key_with_an_existing_table_is_that_tables_key() -> None:
    stack = Stack(new_app(), "Test")  # no new table: a region-agnostic stack is fine
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    table = dynamodb.Table.from_table_name(stack, "Sink", "clicks")
    _, processor = build(stack, table=table, encryption_key=key, table_access=TableAccess.read())
    on_key = actions_on(role_statements(stack, processor), stack.resolve(key.key_arn))
    assert "kms:Decrypt" in on_key and "kms:Encrypt" not in on_key  # the stream's read and a read-only table
    Template.from_stack(stack).has_resource_properties(
        "AWS::Kinesis::Stream",
        {"StreamEncryption": {"EncryptionType": "KMS", "KeyId": stack.resolve(key.key_arn)}},
    )


def test_encryption_key_with_an_existing_stream_still_encrypts_the_new_table() -> None:
    stack = regional_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    stream = kinesis.Stream.from_stream_arn(
        stack, "Existing", "arn:aws:kinesis:eu-west-1:123456789012:stream/s"
    )
    _, processor = build(stack, stream=stream, encryption_key=key)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Kinesis::Stream", 0)
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "Replicas": [
                Match.object_like({"SSESpecification": {"KMSMasterKeyId": stack.resolve(key.key_arn)}})
            ]
        },
    )
    assert "kms:Encrypt" in actions_on(role_statements(stack, processor), stack.resolve(key.key_arn))


def test_encryption_key_of_a_new_table_needs_an_explicit_region() -> None:
    stack = Stack(new_app(), "Test")
    key = kms.Key(stack, "Key")
    with pytest.raises(ValueError, match=r"^encryption_key needs a stack with an explicit region"):
        build(stack, encryption_key=key)


def test_every_knob_reaches_the_mapping() -> None:
    stack, _ = build(
        batch_size=500,
        max_batching_window=Duration.seconds(5),
        parallelization_factor=4,
        bisect_batch_on_error=False,
        retry_attempts=0,
        max_record_age=Duration.minutes(5),
        report_batch_item_failures=False,
        tumbling_window=Duration.seconds(60),
        starting_position=lambda_.StartingPosition.AT_TIMESTAMP,
        starting_position_timestamp=1700000000,
        shard_count=2,
        retention=Duration.days(7),
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        ESM,
        {
            "BatchSize": 500,
            "MaximumBatchingWindowInSeconds": 5,
            "ParallelizationFactor": 4,
            "BisectBatchOnFunctionError": False,
            "MaximumRetryAttempts": 0,
            "MaximumRecordAgeInSeconds": 300,
            "FunctionResponseTypes": Match.absent(),
            "TumblingWindowInSeconds": 60,
            "StartingPosition": "AT_TIMESTAMP",
            "StartingPositionTimestamp": 1700000000,
        },
    )
    template.has_resource_properties(
        "AWS::Kinesis::Stream",
        {"ShardCount": 2, "RetentionPeriodHours": 168, "StreamModeDetails": {"StreamMode": "PROVISIONED"}},
    )


def test_enhanced_fan_out_reads_through_a_dedicated_consumer() -> None:
    stack, processor = build(enhanced_fan_out=True)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Kinesis::StreamConsumer", 1)
    assert processor.consumer is not None
    consumer_id = stack.resolve(processor.consumer.node.default_child.logical_id)  # type: ignore[union-attr]
    template.has_resource_properties(ESM, {"EventSourceArn": {"Fn::GetAtt": [consumer_id, "ConsumerARN"]}})
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": Match.array_with(["kinesis:SubscribeToShard"]),
                                "Resource": {"Fn::GetAtt": [consumer_id, "ConsumerARN"]},
                            }
                        )
                    ]
                )
            }
        },
    )
    assert nag_findings(stack) == []


def test_stream_alarms_roll_back_deployments_and_codedeploy_may_read_them() -> None:
    stack, processor = build()
    template = Template.from_stack(stack)
    resolve = stack.resolve
    iterator_age, new_failures, parked, near_expiry = processor.alarms[:4]
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "IteratorAge", "Threshold": 60000, "EvaluationPeriods": 5, "Statistic": "Maximum"},
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 1}
    )
    group = template.find_resources("AWS::CodeDeploy::DeploymentGroup")
    names = [
        alarm["Name"] for alarm in next(iter(group.values()))["Properties"]["AlarmConfiguration"]["Alarms"]
    ]
    assert resolve(iterator_age.alarm_name) in names and resolve(new_failures.alarm_name) in names
    assert resolve(parked.alarm_name) not in names  # would block the fix until someone redrives
    assert resolve(near_expiry.alarm_name) not in names
    assert len(processor.alarms) == 9  # + the function's errors, p99 duration, throttles, 2 kept-failure
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "cloudwatch:DescribeAlarms",
                                "Resource": Match.array_with(
                                    [resolve(iterator_age.alarm_arn), resolve(new_failures.alarm_arn)]
                                ),
                            }
                        )
                    ]
                )
            }
        },
    )


def test_dev_and_prod_clickstream(dev_app: SynthesizedApp, prod_app: SynthesizedApp) -> None:
    dev, prod = dev_app.template("Clickstream"), prod_app.template("Clickstream")
    dev.has_resource_properties("AWS::Kinesis::Stream", {"ShardCount": 1, "RetentionPeriodHours": 24})
    prod.has_resource_properties(
        "AWS::Kinesis::Stream",
        {"StreamModeDetails": {"StreamMode": "ON_DEMAND"}, "RetentionPeriodHours": 168},
    )
    prod.has_resource(
        "AWS::DynamoDB::GlobalTable",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {"Replicas": [Match.object_like({"DeletionProtectionEnabled": True})]}
            ),
        },
    )
    prod.has_resource_properties(
        "AWS::Lambda::Alias", {"ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2}}
    )
    prod.resource_count_is("AWS::CodeDeploy::DeploymentConfig", 1)  # the canary
    dev.resource_count_is("AWS::CodeDeploy::DeploymentConfig", 0)
    dev.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"MARKER_TTL_SECONDS": str(24 * 3600 + 86400)})}},
    )
    prod.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"MARKER_TTL_SECONDS": str(7 * 86400 + 86400)})}},
    )
