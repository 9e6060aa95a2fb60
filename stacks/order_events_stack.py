"""Order events: the orders table's stream -> EventBridge Pipes -> a bus -> fulfilment, and an audit archive.

Orders are published without a dual write: the API only writes the table, and the table's stream feeds two
pipes (a new order is an ``OrderPlaced`` event, a changed one ``OrderStatusChanged``), so an event exists
exactly when the write committed. The bus archives every event (the audit trail, replayable) and sends
``OrderPlaced`` to the fulfilment ``QueueWorker``, which records each order once. A poison event ends in
the worker's dead-letter queue; ``serverless-patterns-redrive queue`` moves it back once the cause is fixed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_pipes as pipes
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from serverless_patterns import EventConsumer, EventFanOut, FunctionOptions, QueueWorker, acknowledge

from constructs import Construct
from stacks.stage_config import StageConfig

LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"
#: ``source`` of every order event (``lambda_src/fulfilment/fulfilment_logic.py`` checks it).
ORDERS_SOURCE = "serverless-patterns.orders"
_IMAGE = "$.dynamodb.NewImage"
#: The event detail the pipes build from a stream record's new image (strings in DynamoDB JSON).
ORDER_DETAIL_TEMPLATE = (
    '{"order_id": "<' + _IMAGE + '.id.S>", "customer": "<' + _IMAGE + '.customer.S>", '
    '"status": "<' + _IMAGE + '.status.S>", "version": "<' + _IMAGE + '.version.N>", '
    '"created_at": "<' + _IMAGE + '.created_at.S>", "updated_at": "<' + _IMAGE + '.updated_at.S>"}'
)
#: Stream event name -> the event's detail type (one pipe each).
ORDER_EVENTS = {"INSERT": "OrderPlaced", "MODIFY": "OrderStatusChanged"}


class OrderEventsStack(Stack):
    """Order events from the orders table's stream, fanned out to fulfilment and archived."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        alarm_topic: sns.ITopic,
        orders_table: dynamodb.ITable,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.key = config.key(self, "order events")
        self.fulfilment_table = _fulfilment_table(self, config.removal_policy, self.key)
        self.fulfilment = QueueWorker(
            self,
            "Fulfilment",
            code_path=LAMBDA_SRC / "fulfilment",
            function=FunctionOptions(
                description="Fulfilment: records each placed order once",
                service_name="fulfilment",
                environment={"TABLE_NAME": Token.as_string(self.fulfilment_table.table_name)},
                log_retention=config.log_retention,
                provisioned_concurrency=config.provisioned_concurrency,
                reserved_concurrency=20 if config.is_production else None,
                deployment=config.deployment(),
            ),
            max_receive_count=5,
            max_concurrency=10 if config.is_production else None,
            encryption_key=self.key,
            removal_policy=config.removal_policy,
            alarm_topic=alarm_topic,
        )
        self.fulfilment_table.grant(self.fulfilment.function.function, "dynamodb:PutItem")
        self.events = EventFanOut(
            self,
            "OrderEvents",
            consumers=[
                EventConsumer(
                    name="Fulfilment",
                    event_pattern=events.EventPattern(source=[ORDERS_SOURCE], detail_type=["OrderPlaced"]),
                    target=self.fulfilment,
                )
            ],
            archive_retention=Duration.days(365) if config.is_production else Duration.days(30),
            encryption_key=self.key,
            removal_policy=config.removal_policy,
            alarm_topic=alarm_topic,
        )
        self.pipe_failure_queue = _pipe_failure_queue(self, config.removal_policy, alarm_topic, self.key)
        self.pipes = _order_pipes(self, orders_table, self.events, self.pipe_failure_queue)


def _fulfilment_table(
    scope: Construct, removal_policy: RemovalPolicy, key: kms.IKey | None
) -> dynamodb.TableV2:
    return dynamodb.TableV2(
        scope,
        "FulfilmentTable",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        billing=dynamodb.Billing.on_demand(),
        encryption=dynamodb.TableEncryptionV2.customer_managed_key(key) if key else None,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=removal_policy == RemovalPolicy.RETAIN,
        removal_policy=removal_policy,
    )


def _pipe_failure_queue(
    scope: Construct, removal_policy: RemovalPolicy, topic: sns.ITopic, key: kms.IKey | None
) -> sqs.Queue:
    """Where the pipes park stream batches they could not publish (their metadata), kept 14 days and
    watched by two alarms: messages present, the oldest near expiry."""
    failures = sqs.Queue(
        scope,
        "PipeFailureQueue",
        encryption=sqs.QueueEncryption.KMS if key else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=Duration.days(14),
        removal_policy=removal_policy,
    )
    reason = "The pipes' terminal store for stream batches they could not publish; nothing sits behind it."
    acknowledge(failures, "AwsSolutions-SQS3", reason)
    acknowledge(failures, "Serverless-SQSRedrivePolicy", reason)
    prefix = f"{Stack.of(scope).stack_name} PipeFailureQueue"
    five_minutes = Duration.minutes(5)
    alarms = [
        cloudwatch.Alarm(
            scope,
            "PipeFailuresAlarm",
            alarm_name=f"{prefix} holds failures",
            alarm_description="An order pipe could not publish a batch of stream records: order events are "
            "missing on the bus. Inspect the parked batch, fix the cause, re-publish from the table.",
            metric=failures.metric_approximate_number_of_messages_visible(
                period=five_minutes, statistic="Maximum"
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        ),
        cloudwatch.Alarm(
            scope,
            "PipeFailuresAgeAlarm",
            alarm_name=f"{prefix} failures near expiry",
            alarm_description="The oldest parked pipe batch is 12 days old; SQS deletes it at 14 days.",
            metric=failures.metric_approximate_age_of_oldest_message(
                period=five_minutes, statistic="Maximum"
            ),
            threshold=Duration.days(12).to_seconds(),
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        ),
    ]
    action = cloudwatch_actions.SnsAction(topic)
    for alarm in alarms:
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
    return failures


def _order_pipes(
    scope: Construct, table: dynamodb.ITable, fan_out: EventFanOut, failures: sqs.Queue
) -> list[pipes.CfnPipe]:
    """One pipe per stream event name (a DynamoDB stream allows two readers: these are they)."""
    stream_arn = table.table_stream_arn
    assert stream_arn is not None, "the orders table needs a stream (TableOptions(stream=...))"
    stack = Stack.of(scope)
    any_pipe_here = stack.format_arn(service="pipes", resource="pipe", resource_name="*")
    # Confused deputy: EventBridge Pipes may assume the role only for a pipe of this account.
    pipes_service = iam.ServicePrincipal(
        "pipes.amazonaws.com",
        conditions={
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": any_pipe_here},
        },
    )
    role = iam.Role(scope, "PipeRole", assumed_by=pipes_service)
    acknowledge(
        role,
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "The pipes' own role: its inline policy names only this stack's stream, bus and failure queue; a "
        "managed policy could be attached to other principals.",
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            resources=[stream_arn],
        )
    )
    # No dynamodb:ListStreams (a '*'-only action): the pipe is given its stream's ARN.
    fan_out.grant_put_events(role)
    # Exact actions: grant_send_messages would add kms:GenerateDataKey*/kms:ReEncrypt* for a keyed queue.
    failures.grant(role, "sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
    if failures.encryption_master_key is not None:
        failures.encryption_master_key.grant(role, "kms:GenerateDataKey", "kms:Decrypt")
    return [
        _pipe(scope, name, detail_type, stream_arn, fan_out.event_bus.event_bus_arn, role, failures.queue_arn)
        for name, detail_type in ORDER_EVENTS.items()
    ]


def _pipe(
    scope: Construct,
    event_name: str,
    detail_type: str,
    stream_arn: str,
    bus_arn: str,
    role: iam.Role,
    dlq: str,
) -> pipes.CfnPipe:
    return pipes.CfnPipe(
        scope,
        f"{detail_type}Pipe",
        role_arn=role.role_arn,
        source=stream_arn,
        source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
            dynamo_db_stream_parameters=pipes.CfnPipe.PipeSourceDynamoDBStreamParametersProperty(
                starting_position="LATEST",
                batch_size=10,
                maximum_retry_attempts=10,
                dead_letter_config=pipes.CfnPipe.DeadLetterConfigProperty(arn=dlq),
            ),
            filter_criteria=pipes.CfnPipe.FilterCriteriaProperty(
                filters=[pipes.CfnPipe.FilterProperty(pattern=json.dumps({"eventName": [event_name]}))]
            ),
        ),
        target=bus_arn,
        target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(
            input_template=ORDER_DETAIL_TEMPLATE,
            event_bridge_event_bus_parameters=pipes.CfnPipe.PipeTargetEventBridgeEventBusParametersProperty(
                source=ORDERS_SOURCE, detail_type=detail_type
            ),
        ),
        description=f"Orders table {event_name} records -> {detail_type} events",
    )
