"""StreamProcessor: every validation error, the enhanced fan-out option, dev vs prod, bring-your-own."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template
from serverless_patterns import StreamProcessor

from tests.harness.compliance import nag_findings
from tests.harness.synth import LAMBDA_SRC, SynthesizedApp, new_app

CODE = LAMBDA_SRC / "clickstream"
ESM = "AWS::Lambda::EventSourceMapping"


def build(**overrides: Any) -> tuple[Stack, StreamProcessor]:
    stack = Stack(new_app(), "Test")
    props: dict[str, Any] = {"code_path": CODE, "table_actions": ["dynamodb:UpdateItem"], **overrides}
    return stack, StreamProcessor(stack, "Clicks", **props)


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
        ({"table_actions": []}, "table_actions must list at least one DynamoDB action, got []"),
        ({"table_actions": "dynamodb:PutItem"}, "table_actions must list at least one DynamoDB action"),
        ({"table_actions": ["dynamodb:*"]}, "table_actions must be DynamoDB actions without wildcards"),
        ({"table_actions": ["s3:GetObject"]}, "table_actions must be DynamoDB actions without wildcards"),
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
        ({"partition_key": ""}, "partition_key must be an attribute name of 1..255 characters, got ''"),
        ({"memory_size": 64}, "memory_size must be a whole number in 128..10240 MB, got 64"),
    ],
)
def test_bad_arguments_are_clear_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        build(**overrides)


def test_stream_options_conflict_with_an_existing_stream() -> None:
    stack = Stack(new_app(), "Test")
    stream = kinesis.Stream.from_stream_arn(
        stack, "Existing", "arn:aws:kinesis:us-east-1:123456789012:stream/s"
    )
    with pytest.raises(
        ValueError, match=r"^shard_count, retention apply only to a stream this construct creates"
    ):
        StreamProcessor(
            stack,
            "Clicks",
            code_path=CODE,
            table_actions=["dynamodb:PutItem"],
            stream=stream,
            shard_count=2,
            retention=Duration.hours(48),
        )


def test_table_options_conflict_with_an_existing_table() -> None:
    stack = Stack(new_app(), "Test")
    table = dynamodb.Table.from_table_name(stack, "Existing", "clicks")
    with pytest.raises(ValueError, match=r"^partition_key apply only to a table this construct creates"):
        StreamProcessor(
            stack,
            "Clicks",
            code_path=CODE,
            table_actions=["dynamodb:PutItem"],
            table=table,
            partition_key="id",
        )


def test_existing_stream_and_table_are_used_with_the_narrowest_grant() -> None:
    stack = Stack(new_app(), "Test")
    stream = kinesis.Stream.from_stream_arn(
        stack, "Existing", "arn:aws:kinesis:us-east-1:123456789012:stream/s"
    )
    table = dynamodb.Table.from_table_name(stack, "Sink", "clicks")
    processor = StreamProcessor(
        stack, "Clicks", code_path=CODE, table_actions=["dynamodb:UpdateItem"], stream=stream, table=table
    )
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
    assert processor.consumer is None
    assert processor.failure_queue is not processor.function.failure_queue
    assert nag_findings(stack) == []


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
    iterator_age, parked, new_failures = processor.alarms[:3]
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
    assert len(processor.alarms) == 6  # + the function's errors, throttles, duration
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
