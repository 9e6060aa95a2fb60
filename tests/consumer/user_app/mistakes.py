"""Mistakes a user makes, each answered at synth time with an error that names the argument.

Prints one JSON object: case -> [error type, message] (or ``["no error", ""]``). The cases that pass a
value of the wrong type on purpose are marked for mypy, which checks the rest of the file strictly.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from aws_cdk import App, CfnParameter, Duration, Environment, Stack
from aws_cdk import aws_logs as logs
from serverless_patterns import (
    Authorization,
    FunctionOptions,
    PeriodicJob,
    RestfulMicroservice,
    ServerlessFunction,
    StreamProcessor,
    TableAccess,
    WebApp,
)
from shop_stacks import CODE, SITE

ACCOUNT = "111111111111"


def _stack(region: str = "eu-west-1", app: App | None = None, id: str = "Mistake") -> Stack:
    return Stack(app or App(), id, env=Environment(account=ACCOUNT, region=region))


def _seconds(stack: Stack) -> float:
    return CfnParameter(stack, "Seconds", type="Number").value_as_number


def _service(stack: Stack, *, cloud_watch_role: bool) -> RestfulMicroservice:
    return RestfulMicroservice(
        stack,
        "Api",
        code_path=CODE,
        authorization=Authorization.iam(),
        table_access=TableAccess.read(),
        cloud_watch_role=cloud_watch_role,
    )


def _job_read_timeout_in_minutes() -> None:
    stack = _stack()
    PeriodicJob(
        stack,
        "Job",
        code_path=CODE,
        schedule="rate(1 hour)",
        api_url="https://api.example.com",
        table_access=TableAccess.of("dynamodb:PutItem"),
        read_timeout=Duration.minutes(_seconds(stack)),
    )


def _cloud_watch_role_twice() -> None:
    app = App()
    _service(_stack(app=app, id="First"), cloud_watch_role=True)
    _service(_stack(app=app, id="Second"), cloud_watch_role=True)


CASES: dict[str, Callable[[], object]] = {
    # 3. tokens the library cannot use
    "timeout_hours_parameter": lambda: FunctionOptions(timeout=Duration.hours(_seconds(_stack()))),
    "read_timeout_minutes_parameter": _job_read_timeout_in_minutes,
    # 5. partitions
    "layer_in_cn_northwest_1": lambda: ServerlessFunction(_stack("cn-northwest-1"), "Fn", code_path=CODE),
    "web_app_in_govcloud": lambda: WebApp(
        _stack("us-gov-west-1"),
        "Web",
        site_path=SITE,
        code_path=CODE,
        table_access=TableAccess.read(),
        self_sign_up=False,
    ),
    # 7. wrong types
    "timeout_int": lambda: FunctionOptions(timeout=30),  # type: ignore[arg-type]
    "provisioned_concurrency_int": lambda: FunctionOptions(provisioned_concurrency=2),  # type: ignore[arg-type]
    "deployment_str": lambda: FunctionOptions(deployment="canary"),  # type: ignore[arg-type]
    "environment_int_value": lambda: FunctionOptions(environment={"LIMIT": 7}),  # type: ignore[dict-item]
    "log_retention_int": lambda: FunctionOptions(log_retention=7),  # type: ignore[arg-type]
    "batch_size_str": lambda: StreamProcessor(
        _stack(),
        "Clicks",
        code_path=CODE,
        table_access=TableAccess.write(),
        batch_size="100",  # type: ignore[arg-type]
    ),
    # 10. the account-wide setting twice
    "cloud_watch_role_twice": _cloud_watch_role_twice,
    # a correct call, for contrast
    "log_retention_enum": lambda: FunctionOptions(log_retention=logs.RetentionDays.ONE_MONTH),
}


def main() -> None:
    outcome: dict[str, list[str]] = {}
    for name, case in CASES.items():
        try:
            case()
        except (TypeError, ValueError) as error:
            outcome[name] = [type(error).__name__, str(error)]
        else:
            outcome[name] = ["no error", ""]
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
