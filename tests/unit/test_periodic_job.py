"""PeriodicJob: wiring of the reference stack (both stages), options on small apps, every validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_cdk import CfnParameter, Duration, Environment, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template
from serverless_patterns import (
    Deployment,
    FunctionOptions,
    PeriodicJob,
    ProvisionedConcurrency,
    TableAccess,
    TableOptions,
)
from serverless_patterns.periodic_job import check_schedule_expression, check_time_zone, missed_run_window
from serverless_patterns.testing import cfn_lint_findings, logical_id, nag_findings, role_statements

from tests.harness.synth import LAMBDA_SRC, SynthesizedApp, new_app

CODE = LAMBDA_SRC / "exchange_rates"
URL = "https://rates.example.com/latest"
TABLE = "AWS::DynamoDB::GlobalTable"
PUT = TableAccess.of("dynamodb:PutItem")


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in template["Resources"].items() if res["Type"] == resource_type}


def only(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    found = resources(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, got {list(found)}"
    return next(iter(found.items()))


# ---- the reference stack -------------------------------------------------------------------------
def test_schedule_targets_the_live_alias_through_a_role_scoped_to_it(any_app: SynthesizedApp) -> None:
    template = any_app.templates["ExchangeRatesJob"]
    job = any_app.stacks["ExchangeRatesJob"].job  # type: ignore[attr-defined]
    alias_id, dlq_id = logical_id(job.function.alias), logical_id(job.dead_letter_queue)
    role_id = logical_id(job.scheduler_role)
    _, schedule = only(template, "AWS::Scheduler::Schedule")
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "cron(0 * * * ? *)" and props["ScheduleExpressionTimezone"] == "UTC"
    assert props["State"] == "ENABLED" and props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = props["Target"]
    assert target["Arn"] == {"Ref": alias_id}
    assert target["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq_id, "Arn"]}}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3}
    assert '"scheduled_time":"<aws.scheduler.scheduled-time>"' in target["Input"]
    # The scheduler's role: invoke the alias (not the function, not $LATEST), send to the DLQ (with the
    # DLQ's key in prod: exactly what SQS needs to encrypt). Nothing else.
    statements = role_statements(template, role_id)
    expected = [
        ("lambda:InvokeFunction", str({"Ref": alias_id})),
        ("sqs:SendMessage", str({"Fn::GetAtt": [dlq_id, "Arn"]})),
    ]
    if any_app.stage == "prod":
        expected.append(
            (str(["kms:Decrypt", "kms:GenerateDataKey"]), str({"Fn::GetAtt": ["Key961B73FD", "Arn"]}))
        )
    assert sorted((str(s["Action"]), str(s["Resource"])) for s in statements) == sorted(expected)
    trust = template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_dead_letter_queue_is_encrypted_and_ssl_only(any_app: SynthesizedApp) -> None:
    template = any_app.template("ExchangeRatesJob")
    job = any_app.stacks["ExchangeRatesJob"].job  # type: ignore[attr-defined]
    dlq_id = logical_id(job.dead_letter_queue)
    queue = any_app.templates["ExchangeRatesJob"]["Resources"][dlq_id]["Properties"]
    if any_app.stage == "prod":  # the stack's customer-managed key
        assert queue["KmsMasterKeyId"] == {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
    else:
        assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 86400
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": dlq_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            },
        },
    )


def test_function_fails_fast_and_keeps_failed_runs(any_app: SynthesizedApp) -> None:
    template = any_app.template("ExchangeRatesJob")
    job = any_app.stacks["ExchangeRatesJob"].job  # type: ignore[attr-defined]
    function_id = logical_id(job.function.function)
    function = any_app.templates["ExchangeRatesJob"]["Resources"][function_id]["Properties"]
    assert function["Timeout"] == 30
    variables = function["Environment"]["Variables"]
    assert variables["API_URL"] == "https://exchange-rates.example.com/v1/latest?base=EUR"
    assert (variables["HTTP_CONNECT_TIMEOUT_SECONDS"], variables["HTTP_READ_TIMEOUT_SECONDS"]) == ("3", "10")
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "Qualifier": {"Fn::Select": [7, {"Fn::Split": [":", {"Ref": logical_id(job.function.alias)}]}]},
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 3600,
            "DestinationConfig": {
                "OnFailure": {"Destination": {"Fn::GetAtt": [logical_id(job.function.failure_queue), "Arn"]}}
            },
        },
    )


def test_grants_are_narrow_and_the_secret_is_this_functions_alone(any_app: SynthesizedApp) -> None:
    template = any_app.templates["ExchangeRatesJob"]
    stack = any_app.stacks["ExchangeRatesJob"]
    job = stack.job  # type: ignore[attr-defined]
    role_id = logical_id(job.function.role)
    by_resource = {
        str(s["Resource"]): sorted(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        for s in role_statements(template, role_id)
    }
    assert by_resource[str({"Fn::GetAtt": [logical_id(job.table), "Arn"]})] == ["dynamodb:BatchWriteItem"]
    assert by_resource[str({"Fn::GetAtt": [logical_id(job.idempotency_table), "Arn"]})] == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]
    secret_ref = {"Ref": logical_id(stack.api_key)}  # type: ignore[attr-defined]
    assert by_resource[str(secret_ref)] == ["secretsmanager:GetSecretValue"]
    readers = [
        lid
        for lid, res in resources(template, "AWS::IAM::Role").items()
        if any(str(secret_ref) in str(s.get("Resource")) for s in role_statements(template, lid))
    ]
    assert readers == [role_id]
    idempotency = template["Resources"][logical_id(job.idempotency_table)]["Properties"]
    assert idempotency["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert idempotency["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    sink = template["Resources"][logical_id(job.table)]["Properties"]
    assert sink["KeySchema"] == [
        {"AttributeName": "pair", "KeyType": "HASH"},
        {"AttributeName": "hour", "KeyType": "RANGE"},
    ]
    assert sink["Replicas"][0]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_alarms_for_failed_undelivered_and_missed_runs(any_app: SynthesizedApp) -> None:
    template = any_app.templates["ExchangeRatesJob"]
    job = any_app.stacks["ExchangeRatesJob"].job  # type: ignore[attr-defined]
    alarms = template["Resources"]
    failed = alarms[logical_id(job.failed_runs_alarm)]["Properties"]
    assert (failed["MetricName"], failed["Statistic"], failed["Threshold"]) == (
        "NumberOfMessagesSent",
        "Sum",
        1,
    )
    assert failed["Dimensions"][0]["Value"] == {
        "Fn::GetAtt": [logical_id(job.function.failure_queue), "QueueName"]
    }
    dead = alarms[logical_id(job.dead_letter_alarm)]["Properties"]
    assert (dead["MetricName"], dead["ComparisonOperator"], dead["Threshold"]) == (
        "ApproximateNumberOfMessagesVisible",
        "GreaterThanOrEqualToThreshold",
        1,
    )
    assert dead["Dimensions"][0]["Value"] == {"Fn::GetAtt": [logical_id(job.dead_letter_queue), "QueueName"]}
    missed = alarms[logical_id(job.missed_runs_alarm)]["Properties"]
    assert (missed["MetricName"], missed["Period"], missed["EvaluationPeriods"]) == ("Invocations", 3600, 2)
    assert (missed["ComparisonOperator"], missed["TreatMissingData"]) == ("LessThanThreshold", "breaching")
    assert {
        "Name": "Resource",
        "Value": {"Fn::Join": ["", [{"Ref": logical_id(job.function.function)}, ":live"]]},
    } in (missed["Dimensions"])
    assert len(job.alarms) == 9  # function: errors, p99, throttles, 2 kept; failed, missed; DLQ: 2 kept


def test_failed_runs_roll_back_a_deployment_and_codedeploy_may_read_that_alarm(
    any_app: SynthesizedApp,
) -> None:
    template = any_app.templates["ExchangeRatesJob"]
    job = any_app.stacks["ExchangeRatesJob"].job  # type: ignore[attr-defined]
    _, group = only(template, "AWS::CodeDeploy::DeploymentGroup")
    rollback = [alarm["Name"] for alarm in group["Properties"]["AlarmConfiguration"]["Alarms"]]
    assert {"Ref": logical_id(job.failed_runs_alarm)} in rollback
    # Standing alarms (queue depth, missed runs) would block the very deploy that fixes them.
    assert {"Ref": logical_id(job.missed_runs_alarm)} not in rollback
    assert {"Ref": logical_id(job.dead_letter_alarm)} not in rollback
    role_id = group["Properties"]["ServiceRoleArn"]["Fn::GetAtt"][0]
    readable = [
        resource
        for statement in role_statements(template, role_id)
        if statement["Action"] == "cloudwatch:DescribeAlarms"
        for resource in (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
    ]
    assert {"Fn::GetAtt": [logical_id(job.failed_runs_alarm), "Arn"]} in readable


def test_dev_and_prod_differ_in_deployment_and_retention(
    dev_app: SynthesizedApp, prod_app: SynthesizedApp
) -> None:
    dev, prod = dev_app.templates["ExchangeRatesJob"], prod_app.templates["ExchangeRatesJob"]
    # An hourly job cannot judge a canary: all at once in both stages, behind the dry-run hook.
    for template in (dev, prod):
        assert resources(template, "AWS::CodeDeploy::DeploymentConfig") == {}
    for template, policy, protected in ((dev, "Delete", False), (prod, "Retain", True)):
        for table in resources(template, TABLE).values():
            assert table["DeletionPolicy"] == policy
            (replica,) = table["Properties"]["Replicas"]
            assert replica["DeletionProtectionEnabled"] is protected
    for template, days in ((dev, 7), (prod, 365)):
        logs = resources(template, "AWS::Logs::LogGroup").values()
        assert len(logs) == 2  # the job's and its pre-traffic hook's
        assert {log["Properties"]["RetentionInDays"] for log in logs} == {days}


# ---- options on small apps -----------------------------------------------------------------------
def small_job(**overrides: Any) -> tuple[Stack, PeriodicJob]:
    stack = Stack(new_app(), "Small")
    props: dict[str, Any] = {
        "schedule": "rate(15 minutes)",
        "api_url": URL,
        "code_path": CODE,
        "table_access": PUT,
        **overrides,
    }
    return stack, PeriodicJob(stack, "Job", **props)


def test_options_reach_the_schedule_and_an_existing_table_gets_the_grant() -> None:
    stack, _ = small_job()
    existing = dynamodb.Table.from_table_name(stack, "Existing", "existing-table")
    start = datetime(2027, 1, 1, tzinfo=UTC)
    job = PeriodicJob(
        stack,
        "Custom",
        schedule="cron(30 8 ? * MON-FRI *)",
        time_zone="Europe/Berlin",
        flexible_window=Duration.minutes(15),
        start=start,
        end=start + timedelta(days=30),
        enabled=False,
        retry_attempts=0,
        max_event_age=Duration.minutes(5),
        payload={"region": "eu"},
        api_url=URL,
        code_path=CODE,
        table=existing,
        table_access=PUT,
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "cron(30 8 ? * MON-FRI *)",
            "ScheduleExpressionTimezone": "Europe/Berlin",
            "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
            "StartDate": Match.string_like_regexp("^2027-01-01T00:00:00"),
            "EndDate": Match.string_like_regexp("^2027-01-31T00:00:00"),
            "State": "DISABLED",
            "Target": Match.object_like(
                {
                    "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 300},
                    "Input": Match.string_like_regexp('"detail":\\{"region":"eu"\\}'),
                }
            ),
        },
    )
    # The existing table got a PutItem grant; no second sink table was created for "Custom".
    assert job.table is existing
    role_id = logical_id(job.function.role)
    puts = [
        s["Resource"]
        for s in role_statements(dict(template.to_json()), role_id)
        if s["Action"] == "dynamodb:PutItem"
    ]
    assert ":table/existing-table" in str(puts) and len(puts) == 1
    # "Job" has a sink and an idempotency table; "Custom" only its idempotency table.
    assert len(template.find_resources(TABLE)) == 3
    # weekly cron (weekdays only) + 15 min window: one-day periods over the window of two runs.
    missed = template.find_resources(
        "AWS::CloudWatch::Alarm",
        {"Properties": {"AlarmName": Match.string_like_regexp("Custom did not run")}},
    )
    (props,) = [res["Properties"] for res in missed.values()]
    assert (props["Period"], props["EvaluationPeriods"]) == (86400, 7)


def test_no_secret_means_no_secret_grant_or_variable() -> None:
    stack, job = small_job()
    template = dict(Template.from_stack(stack).to_json())
    function = template["Resources"][logical_id(job.function.function)]["Properties"]
    variables = function["Environment"]["Variables"]
    assert "API_KEY_SECRET_ARN" not in variables and variables["API_URL"] == URL
    assert "secretsmanager" not in str(template)
    assert job.missed_runs_alarm is not None
    missed = template["Resources"][logical_id(job.missed_runs_alarm)]["Properties"]
    assert (missed["Period"], missed["EvaluationPeriods"]) == (900, 2)


# ---- validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(1 hour)", 3600),
        ("rate(2 days)", 172800),
        ("cron(0 * * * ? *)", 3600),
        ("cron(*/5 * * * ? *)", 3600),
        ("cron(0 */6 * * ? *)", 21600),
        ("cron(15 10 * * ? *)", 86400),
        ("cron(0 18 ? * MON-FRI *)", 604800),
        ("cron(0 8 1 * ? *)", 31 * 86400),
        ("cron(0 12 L * ? 2026-2030)", 31 * 86400),
        ("cron(0 12 15W JAN,JUL ? *)", 31 * 86400),
        ("cron(0 9 ? * 6L *)", 604800),
        ("cron(0 9 ? * 2#1 *)", 604800),
        ("cron(0,30 8-17 ? * 2-6 *)", 604800),
    ],
)
def test_valid_expressions_and_their_expected_interval(expression: str, seconds: int) -> None:
    assert check_schedule_expression("schedule", expression) == seconds


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(0 minutes)", "rate value must be at least 1"),
        ("rate(1 minutes)", "singular unit for 1"),
        ("rate(5 hour)", r"e.g. rate\(5 hours\)"),
        ("rate(5 weeks)", r"must be rate\(<n> minute"),
        ("rate(-1 hours)", r"must be rate\(<n> minute"),
        ("every hour", r"rate\(<n> <unit>\) or cron"),
        ("at(2027-01-01T00:00:00)", "one-time at"),
        ("cron(0 * * * ?)", "cron needs 6 fields .* got 5"),
        ("cron(0 * * * ? * *)", "got 7"),
        ("cron(60 * * * ? *)", "minutes field '60': must be in 0..59, got 60"),
        ("cron(0 24 * * ? *)", "hours field '24': must be in 0..23"),
        ("cron(0 0 32 * ? *)", "day-of-month field '32': must be in 1..31"),
        ("cron(0 0 0 * ? *)", "day-of-month field '0'"),
        ("cron(0 0 1 13 ? *)", "month field '13': must be in 1..12"),
        ("cron(0 0 1 FOO ? *)", "month field 'FOO': expected 1..12 or JAN/"),
        ("cron(0 0 ? * 8 *)", "day-of-week field '8': must be in 1..7"),
        ("cron(0 0 ? * MON#6 *)", "'#' occurrence must be 1..5"),
        ("cron(0 0 1 * ? 1969)", "year field '1969': must be in 1970..2199"),
        ("cron(*/0 * * * ? *)", "increment after '/' must be a whole number >= 1"),
        ("cron(0 ? * * ? *)", "'?' is allowed only in day-of-month and day-of-week"),
        ("cron(0 0 * * * *)", "exactly one of day-of-month .* must be '\\?'"),
        ("cron(0 0 ? * ? *)", "exactly one of day-of-month"),
        ("cron(0 0 1 * MON *)", "exactly one of day-of-month"),
    ],
)
def test_malformed_schedule_expressions_are_rejected(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        small_job(schedule=expression)
    assert str(error.value).startswith("schedule")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"time_zone": "Mars/Olympus_Mons"},
            "time_zone must be an IANA time zone .* got 'Mars/Olympus_Mons'",
        ),
        ({"time_zone": "CEST"}, "time_zone must be an IANA time zone"),
        ({"flexible_window": Duration.minutes(1441)}, "flexible_window must be 60..86400 seconds, got 86460"),
        ({"flexible_window": Duration.seconds(30)}, "flexible_window must be 60..86400 seconds, got 30"),
        ({"flexible_window": Duration.seconds(90)}, "flexible_window must be whole minutes, 1..1440, got 90"),
        (
            {"start": datetime(2027, 2, 1, tzinfo=UTC), "end": datetime(2027, 1, 1, tzinfo=UTC)},
            r"end must be after start \(2027-02-01T00:00:00\+00:00\), got 2027-01-01",
        ),
        ({"start": datetime(2027, 2, 1)}, "start must be timezone-aware"),
        ({"retry_attempts": 186}, "retry_attempts must be a whole number in 0..185, got 186"),
        ({"retry_attempts": -1}, "retry_attempts must be a whole number in 0..185, got -1"),
        ({"max_event_age": Duration.seconds(59)}, "max_event_age must be 60..86400 seconds, got 59"),
        ({"max_event_age": Duration.hours(25)}, "max_event_age must be 60..86400 seconds, got 90000"),
        (
            {"api_url": "http://rates.example.com"},
            "api_url must be an https:// URL with a host, got 'http://",
        ),
        ({"api_url": "https://"}, "api_url must be an https:// URL with a host"),
        ({"api_key_header": "x api key"}, "api_key_header must be 1..64 letters"),
        (
            {"read_timeout": Duration.seconds(30)},
            r"connect_timeout \+ read_timeout must be below function.timeout \(30 s\), got 33",
        ),
        (
            {"function": FunctionOptions(timeout=Duration.seconds(13))},
            r"connect_timeout \+ read_timeout must be below function.timeout \(13 s\), got 13 s",
        ),
        ({"connect_timeout": Duration.minutes(2)}, "connect_timeout must be 1..60 seconds, got 120"),
        ({"read_timeout": Duration.seconds(0)}, "read_timeout must be 1..300 seconds, got 0"),
        (
            {"idempotency_ttl": Duration.minutes(30)},
            "idempotency_ttl must be 3600..2.592e[+]06 seconds, got 1800",
        ),
        (
            {"missed_run_interval": Duration.days(8)},
            "missed_run_interval must be 60..604800 seconds, got 691200",
        ),
    ],
)
def test_bad_arguments_are_rejected_with_name_value_and_range(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        small_job(**overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"table_access": ["dynamodb:PutItem"]}, r"table_access must be a TableAccess .*got list"),
        ({"table_access": "dynamodb:PutItem"}, r"table_access must be a TableAccess .*got str"),
        ({"function": {"timeout": Duration.seconds(5)}}, r"function must be a FunctionOptions, got dict"),
        ({"table_options": {"partition_key": "pk"}}, r"table_options must be a TableOptions, got dict"),
    ],
)
def test_arguments_of_the_wrong_type_are_a_type_error(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        small_job(**overrides)


def test_table_access_has_no_default_every_job_says_what_it_does_with_its_table() -> None:
    stack = Stack(new_app(), "NoAccess")
    with pytest.raises(TypeError, match="table_access"):
        PeriodicJob(stack, "Job", schedule="rate(1 hour)", api_url=URL, code_path=CODE)  # type: ignore[call-arg]


def test_table_options_describe_a_new_table_and_are_refused_with_an_existing_one() -> None:
    stack = Stack(new_app(), "Keys")
    existing = dynamodb.Table.from_table_name(stack, "Existing", "existing-table")
    with pytest.raises(ValueError, match="table_options describe a table this construct creates"):
        PeriodicJob(
            stack,
            "Job",
            schedule="rate(1 hour)",
            api_url=URL,
            code_path=CODE,
            table_access=PUT,
            table=existing,
            table_options=TableOptions(
                partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
            ),
        )


def test_tokens_pass_validation_untouched_and_reach_the_template() -> None:
    stack = Stack(new_app(), "Tokens")
    seconds = CfnParameter(stack, "Seconds", type="Number").value_as_number
    url = CfnParameter(stack, "Url").value_as_string
    expression = CfnParameter(stack, "Expression").value_as_string
    job = PeriodicJob(
        stack,
        "Job",
        schedule=expression,
        api_url=url,
        code_path=CODE,
        table_access=PUT,
        connect_timeout=Duration.seconds(seconds),
        idempotency_ttl=Duration.seconds(seconds),
        missed_run_interval=Duration.hours(1),  # a token schedule needs it (the alarm's period)
    )
    template = dict(Template.from_stack(stack).to_json())
    variables = template["Resources"][logical_id(job.function.function)]["Properties"]["Environment"][
        "Variables"
    ]
    assert variables["API_URL"] == {"Ref": "Url"}
    assert variables["HTTP_CONNECT_TIMEOUT_SECONDS"] == {"Ref": "Seconds"}
    assert variables["IDEMPOTENCY_TTL_SECONDS"] == {"Ref": "Seconds"}
    (schedule,) = resources(template, "AWS::Scheduler::Schedule").values()
    assert schedule["Properties"]["ScheduleExpression"] == {"Ref": "Expression"}


def test_missed_run_window_stays_within_cloudwatch_limits() -> None:
    assert missed_run_window(60) == (60, 2)
    assert missed_run_window(3600) == (3600, 2)
    assert missed_run_window(86400) == (86400, 2)
    assert missed_run_window(172800) == (86400, 4)
    assert missed_run_window(604800) == (86400, 7)
    assert missed_run_window(604800 + 900) is None


def test_time_zones_are_iana_names() -> None:
    check_time_zone("time_zone", "Europe/Berlin")
    check_time_zone("time_zone", "UTC")
    with pytest.raises(ValueError, match=r"tz must be an IANA time zone such as 'UTC' .*got 'PST'"):
        check_time_zone("tz", "PST")


def test_a_monthly_job_gets_no_missed_run_alarm_cloudwatch_cannot_look_back_a_month() -> None:
    stack, job = small_job(schedule="cron(0 6 1 * ? *)")
    assert job.missed_runs_alarm is None and len(job.alarms) == 8
    alarm_names = [
        res["Properties"]["AlarmName"]
        for res in Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm").values()
    ]
    assert not [name for name in alarm_names if "did not run" in name]


def test_tables_are_retained_and_protected_by_default_and_destroyed_on_request() -> None:
    for overrides, policy, protected in (
        ({}, "Retain", True),
        ({"removal_policy": RemovalPolicy.DESTROY}, "Delete", False),
    ):
        stack, _ = small_job(**overrides)
        tables = Template.from_stack(stack).find_resources(TABLE)
        assert len(tables) == 2
        for table in tables.values():
            (replica,) = table["Properties"]["Replicas"]
            assert (table["DeletionPolicy"], replica["DeletionProtectionEnabled"]) == (policy, protected)


def test_new_tables_default_shape_and_the_idempotency_table_skips_backups() -> None:
    stack, job = small_job()
    template = dict(Template.from_stack(stack).to_json())
    sink = template["Resources"][logical_id(job.table)]["Properties"]
    assert sink["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert sink["BillingMode"] == "PAY_PER_REQUEST"
    assert sink["Replicas"][0]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    idempotency = template["Resources"][logical_id(job.idempotency_table)]["Properties"]
    assert idempotency["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert idempotency["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert "PointInTimeRecoverySpecification" not in idempotency["Replicas"][0]
    # ... and that is acknowledged with its reason, so cdk-nag and cfn-lint stay clean.
    assert nag_findings(stack) == []
    assert cfn_lint_findings(template) == []


# ---- the function's options ----------------------------------------------------------------------
def test_function_options_land_on_the_function() -> None:
    stack, job = small_job(
        function=FunctionOptions(
            description="rates",
            service_name="rates-job",
            memory_size=512,
            timeout=Duration.seconds(45),
            environment={"MODE": "full"},
            reserved_concurrency=5,
            provisioned_concurrency=ProvisionedConcurrency(min=1),
            deployment=Deployment.canary(10, Duration.minutes(5)),
            async_retry_attempts=1,
            async_max_event_age=Duration.minutes(30),
        )
    )
    template = Template.from_stack(stack)
    raw = dict(template.to_json())
    function = raw["Resources"][logical_id(job.function.function)]["Properties"]
    assert (function["MemorySize"], function["Timeout"], function["ReservedConcurrentExecutions"]) == (
        512,
        45,
        5,
    )
    assert function["Description"] == "rates"
    variables = function["Environment"]["Variables"]
    assert variables["MODE"] == "full" and variables["POWERTOOLS_SERVICE_NAME"] == "rates-job"
    assert variables["API_URL"] == URL and "TABLE_NAME" in variables and "IDEMPOTENCY_TABLE_NAME" in variables
    alias = raw["Resources"][logical_id(job.function.alias)]["Properties"]
    assert alias["ProvisionedConcurrencyConfig"] == {"ProvisionedConcurrentExecutions": 1}
    template.has_resource_properties(
        "AWS::CodeDeploy::DeploymentConfig",
        {"TrafficRoutingConfig": Match.object_like({"Type": "TimeBasedCanary"})},
    )
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": 1800}
    )
    template.has_resource_properties("AWS::Scheduler::Schedule", {"Description": "rates"})
    # The p99 duration alarm follows the function's timeout (90% of 45 s).
    assert job.function.options.timeout is not None and job.function.options.timeout.to_seconds() == 45


def test_job_defaults_apply_when_function_is_omitted() -> None:
    stack, job = small_job()
    template = Template.from_stack(stack)
    function = template.to_json()["Resources"][logical_id(job.function.function)]["Properties"]
    assert (function["Timeout"], function["MemorySize"]) == (30, 256)
    assert function["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "Job"
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    )
    # Only the fields left unset take the job's defaults.
    _, tuned = small_job(function=FunctionOptions(memory_size=1024))
    assert tuned.function.options.timeout is not None and tuned.function.options.timeout.to_seconds() == 30
    assert tuned.function.options.memory_size == 1024


@pytest.mark.parametrize(
    "variable", ["API_URL", "TABLE_NAME", "IDEMPOTENCY_TTL_SECONDS", "HTTP_READ_TIMEOUT_SECONDS"]
)
def test_a_variable_the_job_sets_cannot_be_set_in_function_environment(variable: str) -> None:
    with pytest.raises(
        ValueError, match=rf"function.environment must not set {variable}: PeriodicJob sets it"
    ):
        small_job(function=FunctionOptions(environment={variable: "mine"}))


# ---- encryption ------------------------------------------------------------------------------------
def regional_stack(name: str) -> Stack:
    return Stack(new_app(), name, env=Environment(account="123456789012", region="eu-west-1"))


def kms_actions(template: dict[str, Any], role_id: str, key: kms.IKey) -> set[str]:
    key_arn = {"Fn::GetAtt": [logical_id(key), "Arn"]}
    return {
        action
        for statement in role_statements(template, role_id)
        if statement["Resource"] == key_arn
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }


def test_encryption_key_encrypts_both_new_tables_and_the_function_may_use_it() -> None:
    stack = regional_stack("Encrypted")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    job = PeriodicJob(
        stack,
        "Job",
        schedule="rate(1 hour)",
        api_url=URL,
        code_path=CODE,
        table_access=PUT,
        encryption_key=key,
    )
    template = dict(Template.from_stack(stack).to_json())
    for table in (job.table, job.idempotency_table):
        properties = template["Resources"][logical_id(table)]["Properties"]
        assert properties["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
        (replica,) = properties["Replicas"]
        assert replica["SSESpecification"] == {"KMSMasterKeyId": {"Fn::GetAtt": [logical_id(key), "Arn"]}}
    assert {"kms:Decrypt", "kms:Encrypt"} <= kms_actions(template, logical_id(job.function.role), key)
    assert nag_findings(stack) == []


def test_encryption_key_needs_a_stack_with_a_region() -> None:
    stack = Stack(new_app(), "Agnostic")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    with pytest.raises(ValueError, match="encryption_key needs a stack with an explicit region"):
        PeriodicJob(
            stack,
            "Job",
            schedule="rate(1 hour)",
            api_url=URL,
            code_path=CODE,
            table_access=PUT,
            encryption_key=key,
        )


def test_with_an_existing_table_the_key_encrypts_the_idempotency_table_and_is_granted() -> None:
    stack = regional_stack("ExistingEncrypted")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    existing = dynamodb.Table.from_table_name(stack, "Existing", "existing-table")
    job = PeriodicJob(
        stack,
        "Job",
        schedule="rate(1 hour)",
        api_url=URL,
        code_path=CODE,
        table=existing,
        table_access=TableAccess.of("dynamodb:GetItem"),
        encryption_key=key,
    )
    template = dict(Template.from_stack(stack).to_json())
    (only_table,) = resources(template, TABLE)  # no sink table: the idempotency table alone
    assert job.table is existing and only_table == logical_id(job.idempotency_table)
    sse = template["Resources"][only_table]["Properties"]["SSESpecification"]
    assert sse == {"SSEEnabled": True, "SSEType": "KMS"}
    role_id = logical_id(job.function.role)
    reads = [s["Resource"] for s in role_statements(template, role_id) if s["Action"] == "dynamodb:GetItem"]
    assert ":table/existing-table" in str(reads)
    assert {"kms:Decrypt", "kms:Encrypt"} <= kms_actions(template, role_id, key)
