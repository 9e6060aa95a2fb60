"""Builders of ``PeriodicJob``'s resources: its tables, the scheduler's role and the schedule itself.

Each builder returns what it builds; the construct decides where it goes.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.queues import KeptFailures, kept_failures
from serverless_patterns.core.table import TableOptions, build_table, string_key
from serverless_patterns.core.trust import acknowledge_inline_policy
from serverless_patterns.periodic_job.options import (
    IDEMPOTENCY_KEY,
    IDEMPOTENCY_TTL_ATTRIBUTE,
    RunSchedule,
    seconds_text,
)

#: Why the idempotency table has no point-in-time recovery (the cdk-nag acknowledgment's reason).
NO_IDEMPOTENCY_BACKUPS = (
    "Idempotency records expire within days (TTL) and are rebuilt by the next run; restoring them "
    "from a backup would only re-block runs that already finished."
)


def sink_table(
    scope: Construct,
    table: dynamodb.ITable | None,
    options: TableOptions | None,
    encryption_key: kms.IKey | None,
    removal_policy: RemovalPolicy,
) -> dynamodb.ITable:
    """``table`` when given (``options`` is then ``None``), else a new table ``SinkTable`` shaped by
    ``options``. (0.1 built a ``dynamodb.Table`` with id ``Table``; the new id gives the ``TableV2`` a new
    logical ID, because CloudFormation cannot change a resource's type in place.)"""
    if options is None:
        assert table is not None, "resolve_table_options returns None only for an existing table"
        return table
    return build_table(
        scope, "SinkTable", options=options, encryption_key=encryption_key, removal_policy=removal_policy
    )


def idempotency_table(
    scope: Construct, encryption_key: kms.IKey | None, removal_policy: RemovalPolicy
) -> dynamodb.TableV2:
    """A new table ``IdempotencyRecords`` (0.1: ``IdempotencyTable``, a ``dynamodb.Table``) for Powertools
    Idempotency: partition key ``id``, TTL ``expiration``,
    no point-in-time recovery (acknowledge AwsSolutions-DDB3 with ``NO_IDEMPOTENCY_BACKUPS``)."""
    return build_table(
        scope,
        "IdempotencyRecords",
        options=TableOptions(
            partition_key=string_key(IDEMPOTENCY_KEY), time_to_live_attribute=IDEMPOTENCY_TTL_ATTRIBUTE
        ),
        encryption_key=encryption_key,
        removal_policy=removal_policy,
        point_in_time_recovery=False,
    )


def table_environment(
    table: dynamodb.ITable, idempotency: dynamodb.ITable, idempotency_ttl: Duration
) -> dict[str, str]:
    """``TABLE_NAME``, ``IDEMPOTENCY_TABLE_NAME`` and ``IDEMPOTENCY_TTL_SECONDS`` for the handler."""
    return {
        "TABLE_NAME": table.table_name,
        "IDEMPOTENCY_TABLE_NAME": idempotency.table_name,
        "IDEMPOTENCY_TTL_SECONDS": seconds_text(idempotency_ttl),
    }


def grant_secret(role: iam.IRole, secret: secretsmanager.ISecret) -> None:
    """Let ``role`` read ``secret``'s value (``GetSecretValue`` only) and decrypt it with the secret's key."""
    # grant_read would add DescribeSecret, which the handler never calls.
    arn = secret.secret_full_arn or f"{secret.secret_arn}-??????"
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[arn])
    )
    if secret.encryption_key is not None:
        secret.encryption_key.grant_decrypt(role)


def undelivered_runs_queue(
    scope: Construct, removal_policy: RemovalPolicy, encryption_key: kms.IKey | None = None
) -> KeptFailures:
    """The queue ``DeadLetterQueue`` that keeps runs the scheduler could not deliver, 14 days, with its
    alarms (runs undelivered, oldest near expiry)."""
    return kept_failures(
        scope,
        "DeadLetterQueue",
        removal_policy=removal_policy,
        encryption_key=encryption_key,
        holds="runs the scheduler could not deliver (its target's dead-letter queue)",
    )


def scheduler_role(scope: Construct) -> iam.Role:
    """The role ``SchedulerRole`` EventBridge Scheduler assumes, for schedules of this account only.

    It starts empty; the schedule's target grants it the invoke and the dead-letter send it needs.
    """
    stack = Stack.of(scope)
    role = iam.Role(
        scope,
        "SchedulerRole",
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com",
            conditions={
                # Confused-deputy protection: only schedules of this account may assume it.
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {
                    "aws:SourceArn": stack.format_arn(
                        service="scheduler", resource="schedule", resource_name="*/*"
                    )
                },
            },
        ),
        description="EventBridge Scheduler: invoke one job's live alias, send to its dead-letter queue",
    )
    acknowledge_inline_policy(role)
    return role


def job_schedule(
    scope: Construct,
    run: RunSchedule,
    alias: lambda_.IAlias,
    role: iam.IRole,
    dead_letter_queue: sqs.IQueue,
    description: str | None,
) -> scheduler.Schedule:
    """The schedule ``Schedule``: ``run`` invokes ``alias`` asynchronously through ``role``, undelivered runs
    go to ``dead_letter_queue``.

    Each run gets ``{"scheduled_time", "execution_id", "attempt", "schedule_arn", "detail"}``;
    ``scheduled_time`` (ISO 8601, UTC) is the same for every retry of one run: key idempotency on it.
    """
    run_event: dict[str, Any] = {
        "scheduled_time": scheduler.ContextAttribute.scheduled_time,
        "execution_id": scheduler.ContextAttribute.execution_id,
        "attempt": scheduler.ContextAttribute.attempt_number,
        "schedule_arn": scheduler.ContextAttribute.schedule_arn,
        "detail": dict(run.payload),
    }
    target = targets.LambdaInvoke(
        alias,
        role=role,
        dead_letter_queue=dead_letter_queue,
        retry_attempts=run.retry_attempts,
        max_event_age=run.max_event_age,
        input=scheduler.ScheduleTargetInput.from_object(run_event),
    )
    return scheduler.Schedule(
        scope,
        "Schedule",
        schedule=scheduler.ScheduleExpression.expression(run.expression, TimeZone.of(run.time_zone)),
        target=target,
        description=description,
        enabled=run.enabled,
        start=run.start,
        end=run.end,
        time_window=(
            scheduler.TimeWindow.flexible(run.flexible_window)
            if run.flexible_window is not None
            else scheduler.TimeWindow.off()
        ),
    )
