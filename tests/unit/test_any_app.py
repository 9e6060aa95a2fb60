"""Issue 11: the patterns hold up in any user's app, not only in the reference stacks.

Imported tables with customer-managed keys and indexes, parameters (tokens) for durations and numbers,
two instances of every pattern, other partitions, strict synth, wrong types, account-wide settings made
twice, and cdk-nag on the library's own key grants. (Two of every pattern: ``test_any_app_twice.py``.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import App, CfnParameter, Duration, Environment, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match, Template
from serverless_patterns import (
    Authorization,
    FunctionOptions,
    PeriodicJob,
    ProvisionedConcurrency,
    RestfulMicroservice,
    Route,
    ServerlessFunction,
    StreamProcessor,
    TableAccess,
    WebApp,
)
from serverless_patterns.function.runtime import POWERTOOLS_LAYER_VERSION
from serverless_patterns.testing import logical_id, nag_findings

from stacks.notes_app_stack import SITE
from tests.harness.synth import LAMBDA_SRC, new_app

ORDERS = LAMBDA_SRC / "orders_api"
CLICKS = LAMBDA_SRC / "clickstream"
RATES = LAMBDA_SRC / "exchange_rates"
NOTES = LAMBDA_SRC / "notes_api"
ACCOUNT = "111111111111"
TABLE_ARN = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders"
KEY_ARN = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def env_stack(region: str = "eu-west-1", app: App | None = None, id: str = "User") -> Stack:
    return Stack(app or new_app(), id, env=Environment(account=ACCOUNT, region=region))


def statements(stack: Stack, role_construct: Any) -> list[dict[str, Any]]:
    """Every statement of the policies attached to ``role_construct``."""
    template = Template.from_stack(stack).to_json()
    role = logical_id(role_construct)
    return [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"].get("Roles", [])
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return sorted(action if isinstance(action, list) else [action])


def on(resource: str, found: list[dict[str, Any]]) -> list[list[str]]:
    return [
        actions(statement) for statement in found if json.dumps(statement["Resource"]) == json.dumps(resource)
    ]


def alarm(template: dict[str, Any], alarm_construct: Any) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][logical_id(alarm_construct)]["Properties"]
    return properties


# 1. Existing tables with a customer-managed key: every grant covers the key.


@pytest.fixture(scope="module")
def imported() -> tuple[Stack, dict[str, Any]]:
    """One stack, three patterns on existing tables: a key named on import, a key passed with table=,
    and a table from the user's other stack that has its own key."""
    return build_imported()


def build_imported() -> tuple[Stack, dict[str, Any]]:
    """What ``imported`` holds, built anew (a test that needs the construct tree before any synth)."""
    app = new_app()
    data = env_stack(app=app, id="Data")
    key = kms.Key(data, "Key", enable_key_rotation=True)
    shared = dynamodb.TableV2(
        data,
        "Shared",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        encryption=dynamodb.TableEncryptionV2.customer_managed_key(key),
        global_secondary_indexes=[
            dynamodb.GlobalSecondaryIndexPropsV2(
                index_name="bySession",
                partition_key=dynamodb.Attribute(name="session", type=dynamodb.AttributeType.STRING),
            )
        ],
    )
    stack = env_stack(app=app)
    named_key = kms.Key.from_key_arn(stack, "OrdersKey", KEY_ARN)
    orders_table = dynamodb.TableV2.from_table_attributes(
        stack, "Orders", table_arn=TABLE_ARN, encryption_key=named_key
    )
    built: dict[str, Any] = {
        "orders": RestfulMicroservice(
            stack,
            "OrdersApi",
            code_path=ORDERS,
            authorization=Authorization.iam(),
            table_access=TableAccess.read_write(),
            table=orders_table,
        ),
        "reader": RestfulMicroservice(
            stack,
            "Reader",
            code_path=ORDERS,
            authorization=Authorization.iam(),
            table_access=TableAccess.read(),
            table=dynamodb.TableV2.from_table_arn(stack, "Plain", TABLE_ARN),
            encryption_key=named_key,
        ),
        "clicks": StreamProcessor(
            stack,
            "Clicks",
            code_path=CLICKS,
            table_access=TableAccess.of("dynamodb:PutItem", "dynamodb:Query"),
            table=shared,
        ),
        "writer": RestfulMicroservice(
            stack,
            "Writer",
            code_path=ORDERS,
            authorization=Authorization.iam(),
            table_access=TableAccess.write(),
            table=dynamodb.TableV2.from_table_arn(stack, "WriteOnly", TABLE_ARN),
        ),
        "key": key,
    }
    return stack, built


def test_a_key_named_on_import_is_granted_as_the_access_needs(imported: tuple[Stack, dict[str, Any]]) -> None:
    stack, built = imported
    found = statements(stack, built["orders"].function.role)
    assert on(KEY_ARN, found) == [
        [
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
        ]
    ]
    # encryption_key together with table= names that table's key: read access only decrypts the table; the
    # key also encrypts what the pattern stores itself (issue 13), so sending a kept failure adds
    # kms:GenerateDataKey. Nothing re-encrypts or encrypts directly.
    assert on(KEY_ARN, statements(stack, built["reader"].function.role)) == [
        ["kms:Decrypt", "kms:GenerateDataKey"]
    ]


def test_a_table_from_another_stack_brings_its_own_key(imported: tuple[Stack, dict[str, Any]]) -> None:
    stack, built = imported
    found = statements(stack, built["clicks"].function.role)
    key_arn = {"Fn::ImportValue": "Data:ExportsOutputFnGetAttKey961B73FDArn5A860C43"}
    assert built["key"].node.path == "Data/Key"
    assert on(key_arn, found) == [
        [
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
        ]
    ]


# 2. Imported tables: index grants where the access reads by index.


def test_imported_tables_get_their_indexes_granted_for_queries_only(
    imported: tuple[Stack, dict[str, Any]],
) -> None:
    stack, built = imported
    index = f"{TABLE_ARN}/index/*"
    assert on(index, statements(stack, built["orders"].function.role)) == [
        ["dynamodb:Query", "dynamodb:Scan"]
    ]
    assert on(index, statements(stack, built["reader"].function.role)) == [
        ["dynamodb:Query", "dynamodb:Scan"]
    ]
    assert on(index, statements(stack, built["writer"].function.role)) == []  # writes never use an index


# 11. No cdk-nag finding from the library's own grants when a user passes a key.


def test_key_and_index_grants_raise_no_cdk_nag_finding_after_synth(
    imported: tuple[Stack, dict[str, Any]],
) -> None:
    """As a Validations plugin sees the app: cross-stack references resolved to exports and imports."""
    stack, _ = imported
    app = stack.node.root
    assert isinstance(app, App)
    app.synth()
    assert nag_findings(stack) == []


def test_key_and_index_grants_raise_no_cdk_nag_finding_before_synth() -> None:
    """As an Aspect sees the app: the other stack's table still named by its own attribute."""
    stack, _ = build_imported()
    assert nag_findings(stack) == []


def test_new_tables_with_a_user_key_raise_no_cdk_nag_finding() -> None:
    stack = env_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    RestfulMicroservice(
        stack,
        "Api",
        code_path=ORDERS,
        authorization=Authorization.iam(),
        table_access=TableAccess.read_write(),
        encryption_key=key,
    )
    StreamProcessor(stack, "Clicks", code_path=CLICKS, table_access=TableAccess.write(), encryption_key=key)
    PeriodicJob(
        stack,
        "Rates",
        code_path=RATES,
        schedule="rate(1 hour)",
        api_url="https://api.example.com/rates",
        table_access=TableAccess.of("dynamodb:PutItem"),
        encryption_key=key,
    )
    assert nag_findings(stack) == []


# 3. Tokens: parameters flow into the template, or are refused by name.


@pytest.fixture(scope="module")
def parameters() -> tuple[Stack, dict[str, Any], dict[str, Any]]:
    stack = env_stack()
    seconds = CfnParameter(stack, "Seconds", type="Number").value_as_number
    hours = CfnParameter(stack, "Hours", type="Number").value_as_number
    days = CfnParameter(stack, "Days", type="Number").value_as_number
    memory = CfnParameter(stack, "Memory", type="Number").value_as_number
    batch = CfnParameter(stack, "Batch", type="Number").value_as_number
    built: dict[str, Any] = {
        "api": RestfulMicroservice(
            stack,
            "Api",
            code_path=ORDERS,
            authorization=Authorization.iam(),
            table_access=TableAccess.read(),
            function=FunctionOptions(
                timeout=Duration.seconds(seconds),
                memory_size=memory,
                provisioned_concurrency=ProvisionedConcurrency(min=batch),
            ),
            max_latency_p99=Duration.seconds(seconds),
        ),
        "clicks": StreamProcessor(
            stack,
            "Clicks",
            code_path=CLICKS,
            table_access=TableAccess.write(),
            iterator_age_threshold=Duration.seconds(seconds),
            retention=Duration.hours(hours),
            batch_size=batch,
        ),
        "job": PeriodicJob(
            stack,
            "Job",
            code_path=RATES,
            schedule="rate(1 hour)",
            api_url="https://api.example.com/rates",
            table_access=TableAccess.of("dynamodb:PutItem"),
            function=FunctionOptions(timeout=Duration.seconds(60)),
            read_timeout=Duration.seconds(seconds),
        ),
        "web": WebApp(
            stack,
            "Web",
            site_path=SITE,
            self_sign_up=False,
            code_path=NOTES,
            table_access=TableAccess.read_write(),
            access_log_retention=Duration.days(days),
        ),
    }
    return stack, built, Template.from_stack(stack).to_json()


def test_a_parameter_timeout_gives_the_p99_alarm_the_parameter_as_threshold(
    parameters: tuple[Stack, dict[str, Any], dict[str, Any]],
) -> None:
    _, built, template = parameters
    function = built["api"].function
    duration = alarm(template, function.rollback_alarms[1])
    # p99 (ms) / 900 > timeout (s)  <=>  p99 > 90% of the timeout: the numbers resolve together at deploy.
    assert duration["Threshold"] == {"Ref": "Seconds"}
    (expression,) = [m for m in duration["Metrics"] if "Expression" in m]
    assert expression["Expression"] == "m1 / 900"
    (raw,) = [m for m in duration["Metrics"] if "MetricStat" in m]
    assert raw["MetricStat"]["Metric"]["MetricName"] == "Duration" and raw["MetricStat"]["Stat"] == "p99"
    properties = template["Resources"][logical_id(function.function)]["Properties"]
    assert properties["Timeout"] == {"Ref": "Seconds"}
    assert properties["MemorySize"] == {"Ref": "Memory"}


def test_parameter_latency_and_iterator_age_thresholds_come_from_the_parameter(
    parameters: tuple[Stack, dict[str, Any], dict[str, Any]],
) -> None:
    _, _, template = parameters
    by_name = {
        props["AlarmName"]: props
        for props in (r["Properties"] for r in template["Resources"].values())
        if "AlarmName" in props and isinstance(props["AlarmName"], str)
    }
    for name in ("User Api API p99 latency", "User Clicks stream iterator age"):
        assert by_name[name]["Threshold"] == {"Ref": "Seconds"}, name
        assert [m["Expression"] for m in by_name[name]["Metrics"] if "Expression" in m] == ["m1 / 1000"]
    # No alarm anywhere got a threshold of 0 from an unresolved token.
    assert all(props.get("Threshold") != 0 for props in by_name.values())


def test_parameters_reach_environment_stream_bucket_and_mapping_as_references(
    parameters: tuple[Stack, dict[str, Any], dict[str, Any]],
) -> None:
    _, built, template = parameters
    job = template["Resources"][logical_id(built["job"].function.function)]["Properties"]
    assert job["Environment"]["Variables"]["HTTP_READ_TIMEOUT_SECONDS"] == {"Ref": "Seconds"}
    stream = template["Resources"][logical_id(built["clicks"].stream)]["Properties"]
    assert stream["RetentionPeriodHours"] == {"Ref": "Hours"}
    (mapping,) = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    assert mapping["BatchSize"] == {"Ref": "Batch"}
    rules = template["Resources"][logical_id(built["web"].log_bucket)]["Properties"]["LifecycleConfiguration"]
    assert rules["Rules"][0]["ExpirationInDays"] == {"Ref": "Days"}
    alias = template["Resources"][logical_id(built["api"].function.alias)]["Properties"]
    assert alias["ProvisionedConcurrencyConfig"] == {"ProvisionedConcurrentExecutions": {"Ref": "Batch"}}


def _job(stack: Stack, **overrides: Any) -> PeriodicJob:
    arguments: dict[str, Any] = {
        "code_path": RATES,
        "schedule": "rate(1 hour)",
        "api_url": "https://api.example.com/rates",
        "table_access": TableAccess.of("dynamodb:PutItem"),
    }
    return PeriodicJob(stack, "Job", **{**arguments, **overrides})


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda p: FunctionOptions(timeout=Duration.hours(p)),
            r"timeout comes from a token .* must be given in seconds: Duration.seconds\(",
        ),
        (
            lambda p: _job(Stack(new_app(), "J"), read_timeout=Duration.minutes(p)),
            r"read_timeout comes from a token .* in seconds",
        ),
        (
            lambda p: StreamProcessor(
                Stack(new_app(), "S"),
                "S",
                code_path=CLICKS,
                table_access=TableAccess.write(),
                retention=Duration.seconds(p),
            ),
            r"retention comes from a token .* in hours: Duration.hours\(",
        ),
        (
            lambda p: _job(Stack(new_app(), "J"), flexible_window=Duration.minutes(p)),
            r"flexible_window must be a literal Duration",
        ),
        (
            lambda p: _job(Stack(new_app(), "J"), missed_run_interval=Duration.seconds(p)),
            r"missed_run_interval must be a literal Duration",
        ),
        (
            lambda p: _job(
                Stack(new_app(), "J"), schedule=CfnParameter(Stack(new_app(), "X"), "E").value_as_string
            ),
            r"schedule is a token .* pass missed_run_interval",
        ),
    ],
    ids=[
        "timeout-hours",
        "read-timeout-minutes",
        "retention-seconds",
        "flexible-window",
        "missed-run",
        "schedule",
    ],
)
def test_tokens_the_library_cannot_use_are_refused_by_name(
    build: Callable[[float], Any], message: str
) -> None:
    parameter = CfnParameter(Stack(new_app(), "Params"), "P", type="Number").value_as_number
    with pytest.raises(ValueError, match=message):
        build(parameter)


# 5. Partitions: the Powertools layer account per region, clear errors where none is published.


def _layer_arn(region: str) -> Any:
    stack = env_stack(region)
    function = ServerlessFunction(stack, "Fn", code_path=ORDERS)
    template = Template.from_stack(stack).to_json()
    (layer,) = template["Resources"][logical_id(function.function)]["Properties"]["Layers"]
    return stack.resolve(layer) if not isinstance(layer, str) else layer


@pytest.mark.parametrize(
    ("region", "account"),
    [
        ("eu-west-1", "017000801446"),
        ("cn-north-1", "498634801083"),
        ("us-gov-east-1", "165087284144"),
        ("us-gov-west-1", "165093116878"),
    ],
)
def test_the_powertools_layer_comes_from_the_account_that_publishes_it_there(
    region: str, account: str
) -> None:
    arn = json.dumps(_layer_arn(region))
    assert f":{account}:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:{POWERTOOLS_LAYER_VERSION}" in arn


@pytest.mark.parametrize("region", ["cn-northwest-1", "us-iso-east-1"])
def test_regions_without_a_published_layer_are_refused_by_name(region: str) -> None:
    with pytest.raises(ValueError, match=rf"region '{region}' .* has no public Powertools"):
        ServerlessFunction(env_stack(region), "Fn", code_path=ORDERS)


@pytest.mark.parametrize("region", ["us-gov-west-1", "cn-north-1"])
def test_web_app_outside_the_commercial_partition_is_refused_with_the_region(region: str) -> None:
    with pytest.raises(ValueError, match=rf"WebApp needs Amazon CloudFront .* region '{region}'"):
        WebApp(
            env_stack(region),
            "Web",
            site_path=SITE,
            code_path=NOTES,
            table_access=TableAccess.read(),
            self_sign_up=False,
        )


# 6. Strict synth: no warning for any pattern with its defaults.


def test_no_pattern_warns_at_synth_with_its_defaults() -> None:
    stack = env_stack()
    RestfulMicroservice(
        stack, "Api", code_path=ORDERS, authorization=Authorization.iam(), table_access=TableAccess.read()
    )
    StreamProcessor(stack, "Clicks", code_path=CLICKS, table_access=TableAccess.write())
    _job(stack)
    WebApp(
        stack,
        "Web",
        site_path=SITE,
        code_path=NOTES,
        table_access=TableAccess.read_write(),
        self_sign_up=False,
    )
    ServerlessFunction(stack, "Fn", code_path=ORDERS)
    annotations = Annotations.from_stack(stack)
    assert annotations.find_warning("*", Match.any_value()) == []
    assert annotations.find_error("*", Match.any_value()) == []


# 7. Wrong types: a TypeError naming the argument and the expected type.


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: FunctionOptions(timeout=30), r"^timeout must be an aws_cdk.Duration"),  # type: ignore[arg-type]
        (
            lambda: FunctionOptions(provisioned_concurrency=2),  # type: ignore[arg-type]
            r"^provisioned_concurrency must be a ProvisionedConcurrency",
        ),
        (lambda: FunctionOptions(deployment="canary"), r"^deployment must be a Deployment"),  # type: ignore[arg-type]
        (lambda: FunctionOptions(environment={"LIMIT": 7}), r"^environment values must be str"),  # type: ignore[dict-item]
        (lambda: FunctionOptions(log_retention=7), r"^log_retention must be a logs.RetentionDays"),  # type: ignore[arg-type]
        (lambda: FunctionOptions(memory_size="512"), r"^memory_size must be a number"),  # type: ignore[arg-type]
        (lambda: FunctionOptions(service_name=3), r"^service_name must be a str"),  # type: ignore[arg-type]
        (
            lambda: StreamProcessor(
                Stack(new_app(), "S"),
                "S",
                code_path=CLICKS,
                table_access=TableAccess.write(),
                batch_size="100",  # type: ignore[arg-type]
            ),
            r"^batch_size must be a number",
        ),
        (
            lambda: _job(Stack(new_app(), "J"), read_timeout=10),
            r"^read_timeout must be an aws_cdk.Duration",
        ),
        (
            lambda: RestfulMicroservice(
                Stack(new_app(), "R"),
                "R",
                code_path=ORDERS,
                authorization=Authorization.iam(),
                table_access=TableAccess.read(),
                throttling_burst_limit="200",  # type: ignore[arg-type]
            ),
            r"^throttling_burst_limit must be a number",
        ),
    ],
)
def test_wrong_types_name_the_argument_and_the_expected_type(build: Callable[[], Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        build()


def test_log_retention_error_names_log_retention_not_retention() -> None:
    with pytest.raises(TypeError) as error:
        FunctionOptions(log_retention=7)  # type: ignore[arg-type]
    assert str(error.value).startswith("log_retention ")


# 8. Typing: sequences and number tokens are accepted (mypy --strict on the user app in tests/consumer).


def test_lists_are_accepted_where_sequences_are_documented() -> None:
    route = Route("GET", "/orders", required_query_parameters=["customer", "page"])
    assert route.required_query_parameters == ("customer", "page")
    assert FunctionOptions(environment={"A": "1"}).environment == {"A": "1"}


# 10. The API Gateway account setting once per account and region.


def test_cloud_watch_role_twice_for_one_account_and_region_is_refused_naming_both() -> None:
    app = new_app()

    def service(stack: Stack) -> RestfulMicroservice:
        return RestfulMicroservice(
            stack,
            "Api",
            code_path=ORDERS,
            authorization=Authorization.iam(),
            table_access=TableAccess.read(),
            cloud_watch_role=True,
        )

    service(env_stack(app=app, id="First"))
    service(env_stack("us-east-1", app=app, id="OtherRegion"))  # another region: its own setting
    with pytest.raises(
        ValueError, match=r"already sets it at First/Api/CloudWatchRole; got a second one at Second/"
    ):
        service(env_stack(app=app, id="Second"))
