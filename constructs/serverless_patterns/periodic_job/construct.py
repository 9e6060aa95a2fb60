"""``PeriodicJob``: an EventBridge Scheduler schedule -> Lambda (``live`` alias) -> external API -> DynamoDB.

The scheduler invokes the function's ``live`` alias asynchronously through a role that may invoke
that alias only. Runs the scheduler could not deliver land in ``.dead_letter_queue``; runs the
function failed on every retry land in the function's on-failure queue. An idempotency table lets
the handler write once per scheduled time, however often a run is retried or duplicated.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from constructs import Construct
from serverless_patterns.core.alarms import notify
from serverless_patterns.core.backup import TableBackup, back_up_tables, check_backup
from serverless_patterns.core.keys import AtRest
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.table import (
    TableAccess,
    TableOptions,
    check_key_region,
    grant_table,
    resolve_table_options,
)
from serverless_patterns.function import FunctionOptions, ServerlessFunction
from serverless_patterns.periodic_job.alarms import job_alarms
from serverless_patterns.periodic_job.options import (
    DEFAULT_TABLE_OPTIONS,
    IDEMPOTENCY_ACCESS,
    ApiCall,
    RunSchedule,
    check_idempotency_ttl,
    check_table_access,
    job_function_options,
)
from serverless_patterns.periodic_job.resources import (
    NO_IDEMPOTENCY_BACKUPS,
    grant_secret,
    idempotency_table,
    job_schedule,
    scheduler_role,
    sink_table,
    table_environment,
    undelivered_runs_queue,
)


class PeriodicJob(Construct):
    """A scheduled Lambda job that calls an external HTTP API and stores what it got in DynamoDB.

    The handler receives ``{"scheduled_time", "execution_id", "attempt", "schedule_arn", "detail"}``
    and these environment variables: ``API_URL``, ``API_KEY_SECRET_ARN`` and ``API_KEY_HEADER`` (with
    a secret), ``HTTP_CONNECT_TIMEOUT_SECONDS``, ``HTTP_READ_TIMEOUT_SECONDS``, ``TABLE_NAME``,
    ``IDEMPOTENCY_TABLE_NAME``, ``IDEMPOTENCY_TTL_SECONDS``. Use Powertools Idempotency keyed by
    ``scheduled_time`` on that table.

    Args:
        scope: the parent construct.
        id: the construct id.
        code_path: folder holding the function's code; it becomes one asset.
        schedule: ``rate(<n> minute[s]|hour[s]|day[s])`` or ``cron(<min> <hour> <day-of-month> <month>
            <day-of-week> <year>)`` in EventBridge Scheduler syntax; exactly one of day-of-month and
            day-of-week must be ``?``.
        api_url: the external API's URL (``https://``); passed to the handler as ``API_URL``.
        table_access: what the handler may do with the sink table (required), the narrowest grant, e.g.
            ``TableAccess.of("dynamodb:PutItem")`` or ``TableAccess.write()``.
        function: how the function runs (``FunctionOptions``). PeriodicJob's defaults for the fields left
            unset: ``timeout`` 30 s (a job fails fast instead of hanging), ``async_max_event_age`` 1 hour
            (runs that fail every Lambda retry land in ``.function.failure_queue``), ``service_name`` this
            construct's id; the others as ``FunctionOptions`` documents them. ``function.description`` also
            describes the schedule. ``function.environment`` may not set the variables listed above.
        table: an existing sink table to write to (default: a new one; see ``table_options``). With
            ``encryption_key``, that key is taken to be this table's key (else ``table.encryption_key``, e.g.
            from ``from_table_attributes(..., encryption_key=key)``) and granted to the function.
        table_options: the shape of a new sink table (default ``TableOptions(partition_key=pk, string)``):
            on-demand, point-in-time recovery. Not allowed with ``table``.
        encryption_key: the customer-managed KMS key that encrypts the tables this job creates (the sink
            table and the idempotency table; default: DynamoDB's owned key), granted to the function as
            its access needs. Needs a stack with an explicit region. It also encrypts the function's log
            groups, its failure queue, the dead-letter queue and the backup vault (default: SQS's and
            CloudWatch Logs' own encryption).
        removal_policy: for the tables, queues and log group when the stack goes (default RETAIN, which
            also turns on the new tables' deletion protection; DESTROY suits throw-away stages).
        alarm_topic: SNS topic that every alarm in ``.alarms`` notifies on ALARM and on OK (default none:
            the alarms show in the console and roll back deployments, and tell no one).
        time_zone: IANA time zone the cron expression is evaluated in (default ``UTC``).
        flexible_window: let the scheduler start a run up to this late to spread load, whole minutes,
            1..1440 minutes (default: none, runs start on time).
        start: first moment the schedule may run (timezone-aware; default: now).
        end: last moment the schedule may run (timezone-aware, after ``start``; default: never).
        enabled: whether the schedule runs (default True).
        retry_attempts: scheduler retries of a run it could not deliver, 0..185 (default 3).
        max_event_age: how long the scheduler keeps trying to deliver one run, 60..86400 seconds
            (default 1 hour). Undelivered runs go to ``.dead_letter_queue``.
        payload: JSON object passed to every run as ``detail`` (default ``{}``).
        api_key_secret: Secrets Manager secret holding the API key (default none). Only this function
            may read it (``GetSecretValue``, and ``kms:Decrypt`` on its key when it has one).
        api_key_header: HTTP header the handler sends the key in (default ``x-api-key``).
        connect_timeout: HTTP connect timeout, 1..60 seconds (default 3 s).
        read_timeout: HTTP read timeout, 1..300 seconds (default 10 s). ``connect_timeout +
            read_timeout`` must stay below ``function.timeout``, so a slow API fails the run, not the sandbox.
        idempotency_ttl: how long idempotency records are kept, 1 hour..30 days (default 2 days); keep
            it above the longest possible retry (``max_event_age`` + ``function.async_max_event_age``).
        missed_run_interval: expected time between two runs, for the "job did not run" alarm
            (default: derived from the schedule: the rate, or for cron the coarsest of every n
            hours, daily, weekly, monthly that fits the fields), 60 s..7 days. CloudWatch looks back
            at most 7 days, so a job that runs less often than weekly has no such alarm.
        backup: back the new sink table up with AWS Backup: daily, each recovery point kept 35 days, in
            this job's own vault (encrypted with ``encryption_key`` when given). Default False; not with
            ``table=``. The idempotency table only holds run markers and is never backed up.

    Attributes:
        function: the job's ``ServerlessFunction`` (``.function``, ``.alias``, ``.role``,
            ``.failure_queue``, ``.alarms``); the schedule targets ``.function.alias``.
        table: the sink table the job writes to (yours, or one it created).
        idempotency_table: Powertools Idempotency records (partition key ``id``, TTL ``expiration``).
        dead_letter_queue: runs the scheduler could not deliver (after ``retry_attempts`` or
            ``max_event_age``), kept 14 days.
        scheduler_role: the role the scheduler assumes: invoke the ``live`` alias, send to the
            dead-letter queue, nothing else.
        schedule: the EventBridge Scheduler schedule; its target is the ``live`` alias.
        failed_runs_alarm: a run failed every Lambda retry; also rolls back an in-progress deployment.
        dead_letter_alarm: the scheduler's dead-letter queue holds undelivered runs (depth > 0).
        missed_runs_alarm: the job did not run for two expected intervals (``None`` for jobs rarer
            than weekly).
        alarms: every alarm of the job: the function's, failed runs, dead-letter depth, missed runs.

    Raises:
        ValueError: an argument out of its range (the message names it, its value and what is allowed),
            ``table_options`` with ``table``, ``function.environment`` setting one of the job's variables,
            or ``encryption_key`` in a stack without an explicit region.
        TypeError: ``function``, ``table_access``, ``table`` or ``table_options`` of the wrong type.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code_path: str | os.PathLike[str],
        schedule: str,
        api_url: str,
        table_access: TableAccess,
        function: FunctionOptions | None = None,
        table: dynamodb.ITable | None = None,
        table_options: TableOptions | None = None,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        alarm_topic: sns.ITopic | None = None,
        time_zone: str = "UTC",
        flexible_window: Duration | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        enabled: bool = True,
        retry_attempts: int | float = 3,
        max_event_age: Duration | None = None,
        payload: Mapping[str, Any] | None = None,
        api_key_secret: secretsmanager.ISecret | None = None,
        api_key_header: str = "x-api-key",
        connect_timeout: Duration | None = None,
        read_timeout: Duration | None = None,
        idempotency_ttl: Duration | None = None,
        missed_run_interval: Duration | None = None,
        backup: bool = False,
    ) -> None:
        options = job_function_options(function, id)
        run = RunSchedule.of(
            expression=schedule, time_zone=time_zone, flexible_window=flexible_window, start=start, end=end,
            enabled=enabled, retry_attempts=retry_attempts, max_event_age=max_event_age, payload=payload,
            missed_run_interval=missed_run_interval,
        )  # fmt: skip
        api = ApiCall.of(
            url=api_url, key_secret=api_key_secret, key_header=api_key_header,
            connect_timeout=connect_timeout, read_timeout=read_timeout, function_timeout=options.timeout,
        )  # fmt: skip
        ttl = check_idempotency_ttl(idempotency_ttl)
        check_table_access(table_access)
        new_table = resolve_table_options(table, table_options, DEFAULT_TABLE_OPTIONS)
        check_key_region(scope, encryption_key)
        check_backup(backup, owns_table=table is None)
        super().__init__(scope, id)
        stored: AtRest = {"encryption_key": encryption_key, "removal_policy": removal_policy}

        self.table: dynamodb.ITable = sink_table(self, table, new_table, encryption_key, removal_policy)
        self.idempotency_table: dynamodb.TableV2 = idempotency_table(self, encryption_key, removal_policy)

        environment = {**api.environment(), **table_environment(self.table, self.idempotency_table, ttl)}
        self.function: ServerlessFunction = ServerlessFunction(
            self,
            "Job",
            code_path=code_path,
            function=options.with_environment(environment, set_by="PeriodicJob"),
            **stored,
        )

        grant_table(self.table, self.function.function, table_access, encryption_key)
        grant_table(self.idempotency_table, self.function.function, IDEMPOTENCY_ACCESS, encryption_key)
        if api_key_secret is not None:
            grant_secret(self.function.role, api_key_secret)

        undelivered = undelivered_runs_queue(self, removal_policy, encryption_key)
        self.dead_letter_queue: sqs.Queue = undelivered.queue
        self.scheduler_role: iam.Role = scheduler_role(self)
        undelivered.grant_send(self.scheduler_role)
        self.schedule: scheduler.Schedule = job_schedule(
            self, run, self.function.alias, self.scheduler_role, self.dead_letter_queue, options.description
        )

        alarms = job_alarms(self, self.function, run.alarm_interval_seconds)
        self.failed_runs_alarm: cloudwatch.Alarm = alarms.failed_runs
        self.dead_letter_alarm: cloudwatch.Alarm = undelivered.present_alarm
        self.missed_runs_alarm: cloudwatch.Alarm | None = alarms.missed_runs
        self.function.add_rollback_alarm(self.failed_runs_alarm)
        self.alarms: list[cloudwatch.Alarm] = [*self.function.alarms, *alarms.all, *undelivered.alarms]
        notify(self.alarms, alarm_topic)

        acknowledge(self.idempotency_table, "AwsSolutions-DDB3", NO_IDEMPOTENCY_BACKUPS)
        # The idempotency table holds only 'this run happened' markers: never backed up (see above).
        self.backup: TableBackup | None = back_up_tables(self, [self.table], **stored) if backup else None
