"""PeriodicJob: wiring of the reference stack (both stages), options on small apps, every validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk.assertions import Match, Template
from serverless_patterns import PeriodicJob
from serverless_patterns.periodic_job import check_schedule_expression, missed_run_window

from tests.harness.iam import role_statements
from tests.harness.synth import LAMBDA_SRC, SynthesizedApp, logical_id, new_app

CODE = LAMBDA_SRC / "exchange_rates"
URL = "https://rates.example.com/latest"


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
    alias_id, dlq_id = logical_id(job.job.alias), logical_id(job.dead_letter_queue)
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
    # The scheduler's role: invoke the alias (not the function, not $LATEST), send to the DLQ. Nothing else.
    statements = role_statements(template, role_id)
    assert sorted((s["Action"], str(s["Resource"])) for s in statements) == sorted(
        [
            ("lambda:InvokeFunction", str({"Ref": alias_id})),
            ("sqs:SendMessage", str({"Fn::GetAtt": [dlq_id, "Arn"]})),
        ]
    )
    trust = template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_dead_letter_queue_is_encrypted_and_ssl_only(any_app: SynthesizedApp) -> None:
    template = any_app.template("ExchangeRatesJob")
    job = any_app.stacks["ExchangeRatesJob"].job  # type: ignore[attr-defined]
    dlq_id = logical_id(job.dead_letter_queue)
    queue = any_app.templates["ExchangeRatesJob"]["Resources"][dlq_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True and queue["MessageRetentionPeriod"] == 14 * 86400
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
    function = any_app.templates["ExchangeRatesJob"]["Resources"][logical_id(job.function)]["Properties"]
    assert function["Timeout"] == 30
    variables = function["Environment"]["Variables"]
    assert variables["API_URL"] == "https://exchange-rates.example.com/v1/latest?base=EUR"
    assert (variables["HTTP_CONNECT_TIMEOUT_SECONDS"], variables["HTTP_READ_TIMEOUT_SECONDS"]) == ("3", "10")
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "Qualifier": {"Fn::Select": [7, {"Fn::Split": [":", {"Ref": logical_id(job.job.alias)}]}]},
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 3600,
            "DestinationConfig": {
                "OnFailure": {"Destination": {"Fn::GetAtt": [logical_id(job.job.failure_queue), "Arn"]}}
            },
        },
    )


def test_grants_are_narrow_and_the_secret_is_this_functions_alone(any_app: SynthesizedApp) -> None:
    template = any_app.templates["ExchangeRatesJob"]
    stack = any_app.stacks["ExchangeRatesJob"]
    job = stack.job  # type: ignore[attr-defined]
    role_id = logical_id(job.job.role)
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
    assert sink["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


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
        "Fn::GetAtt": [logical_id(job.job.failure_queue), "QueueName"]
    }
    dead = alarms[logical_id(job.dead_letter_alarm)]["Properties"]
    assert (dead["MetricName"], dead["ComparisonOperator"], dead["Threshold"]) == (
        "ApproximateNumberOfMessagesVisible",
        "GreaterThanThreshold",
        0,
    )
    assert dead["Dimensions"][0]["Value"] == {"Fn::GetAtt": [logical_id(job.dead_letter_queue), "QueueName"]}
    missed = alarms[logical_id(job.missed_runs_alarm)]["Properties"]
    assert (missed["MetricName"], missed["Period"], missed["EvaluationPeriods"]) == ("Invocations", 3600, 2)
    assert (missed["ComparisonOperator"], missed["TreatMissingData"]) == ("LessThanThreshold", "breaching")
    assert {
        "Name": "Resource",
        "Value": {"Fn::Join": ["", [{"Ref": logical_id(job.function)}, ":live"]]},
    } in (missed["Dimensions"])
    assert len(job.alarms) == 6


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
    assert resources(dev, "AWS::CodeDeploy::DeploymentConfig") == {}
    _, config = only(prod, "AWS::CodeDeploy::DeploymentConfig")
    assert config["Properties"]["TrafficRoutingConfig"]["Type"] == "TimeBasedCanary"
    for template, policy, protected in ((dev, "Delete", False), (prod, "Retain", True)):
        for table in resources(template, "AWS::DynamoDB::Table").values():
            assert table["DeletionPolicy"] == policy
            assert bool(table["Properties"].get("DeletionProtectionEnabled")) is protected
    _, dev_logs = only(dev, "AWS::Logs::LogGroup")
    _, prod_logs = only(prod, "AWS::Logs::LogGroup")
    assert (dev_logs["Properties"]["RetentionInDays"], prod_logs["Properties"]["RetentionInDays"]) == (7, 365)


# ---- options on small apps -----------------------------------------------------------------------
def small_job(**overrides: Any) -> tuple[Stack, PeriodicJob]:
    stack = Stack(new_app(), "Small")
    props: dict[str, Any] = {"schedule": "rate(15 minutes)", "api_url": URL, "code_path": CODE, **overrides}
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
        table_actions=["dynamodb:PutItem"],
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
    role_id = logical_id(job.job.role)
    puts = [
        s["Resource"]
        for s in role_statements(template.to_json(), role_id)
        if s["Action"] == "dynamodb:PutItem"
    ]
    assert ":table/existing-table" in str(puts) and len(puts) == 1
    # "Job" has a sink and an idempotency table; "Custom" only its idempotency table.
    assert len(template.find_resources("AWS::DynamoDB::Table")) == 3
    # weekly cron (weekdays only) + 15 min window: one-day periods over the window of two runs.
    missed = template.find_resources(
        "AWS::CloudWatch::Alarm",
        {"Properties": {"AlarmName": Match.string_like_regexp("Custom did not run")}},
    )
    (props,) = [res["Properties"] for res in missed.values()]
    assert (props["Period"], props["EvaluationPeriods"]) == (86400, 7)


def test_no_secret_means_no_secret_grant_or_variable() -> None:
    stack, job = small_job()
    template = Template.from_stack(stack).to_json()
    variables = template["Resources"][logical_id(job.function)]["Properties"]["Environment"]["Variables"]
    assert "API_KEY_SECRET_ARN" not in variables and variables["API_URL"] == URL
    assert "secretsmanager" not in str(template)
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
        ({"async_retry_attempts": 3}, "async_retry_attempts must be a whole number in 0..2, got 3"),
        (
            {"async_max_event_age": Duration.hours(7)},
            "async_max_event_age must be 60..21600 seconds, got 25200",
        ),
        (
            {"api_url": "http://rates.example.com"},
            "api_url must be an https:// URL with a host, got 'http://",
        ),
        ({"api_url": "https://"}, "api_url must be an https:// URL with a host"),
        ({"api_key_header": "x api key"}, "api_key_header must be 1..64 letters"),
        (
            {"read_timeout": Duration.seconds(30)},
            r"connect_timeout \+ read_timeout must be below timeout \(30 s\), got 33",
        ),
        ({"connect_timeout": Duration.minutes(2)}, "connect_timeout must be 1..60 seconds, got 120"),
        ({"read_timeout": Duration.seconds(0)}, "read_timeout must be 1..300 seconds, got 0"),
        ({"timeout": Duration.minutes(16)}, "timeout must be 1..900 seconds, got 960"),
        (
            {"table_actions": ["dynamodb:*"]},
            r"table_actions must each name one dynamodb: action \(no '\*'\), got 'dynamodb:\*'",
        ),
        ({"table_actions": ["s3:PutObject"]}, "table_actions must each name one dynamodb: action"),
        ({"table_actions": []}, "table_actions must be a non-empty list"),
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


def test_keys_for_a_new_table_are_rejected_with_an_existing_one() -> None:
    stack = Stack(new_app(), "Keys")
    existing = dynamodb.Table.from_table_name(stack, "Existing", "existing-table")
    with pytest.raises(ValueError, match="partition_key and sort_key describe a new table"):
        PeriodicJob(
            stack,
            "Job",
            schedule="rate(1 hour)",
            api_url=URL,
            code_path=CODE,
            table=existing,
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        )


def test_missed_run_window_stays_within_cloudwatch_limits() -> None:
    assert missed_run_window(60) == (60, 2)
    assert missed_run_window(3600) == (3600, 2)
    assert missed_run_window(86400) == (86400, 2)
    assert missed_run_window(172800) == (86400, 4)
    assert missed_run_window(604800) == (86400, 7)
    assert missed_run_window(604800 + 900) is None


def test_a_monthly_job_gets_no_missed_run_alarm_cloudwatch_cannot_look_back_a_month() -> None:
    stack, job = small_job(schedule="cron(0 6 1 * ? *)")
    assert job.missed_runs_alarm is None and len(job.alarms) == 5
    alarm_names = [
        res["Properties"]["AlarmName"]
        for res in Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm").values()
    ]
    assert not [name for name in alarm_names if "did not run" in name]


def test_retained_removal_policy_protects_the_new_tables() -> None:
    stack, _ = small_job(removal_policy=RemovalPolicy.RETAIN)
    for table in Template.from_stack(stack).find_resources("AWS::DynamoDB::Table").values():
        assert (
            table["DeletionPolicy"] == "Retain" and table["Properties"]["DeletionProtectionEnabled"] is True
        )
