"""Issue 11 item 4: two of every pattern in one stack, and the same ids under two parents.

Every alarm's dimensions must point at its own pattern's resources (never at the other instance's), names
that AWS resolves by name (API names) must differ, and two WebApps' site deployments must both be allowed
(aws-cdk-lib runs them on one singleton handler with one role).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import CfnElement, Environment, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk.assertions import Template
from serverless_patterns import (
    Authorization,
    PeriodicJob,
    RestfulMicroservice,
    StreamProcessor,
    TableAccess,
    WebApp,
)
from serverless_patterns.testing import logical_id

from constructs import Construct, IConstruct
from stacks.notes_app_stack import SITE, SITE_TEST_FILES
from tests.harness.synth import LAMBDA_SRC, new_app

Pattern = RestfulMicroservice | StreamProcessor | PeriodicJob | WebApp


def _patterns(scope: Construct, suffix: str = "") -> list[Pattern]:
    return [
        RestfulMicroservice(
            scope,
            f"Orders{suffix}",
            code_path=LAMBDA_SRC / "orders_api",
            authorization=Authorization.iam(),
            table_access=TableAccess.read_write(),
        ),
        StreamProcessor(
            scope,
            f"Clicks{suffix}",
            code_path=LAMBDA_SRC / "clickstream",
            table_access=TableAccess.write(),
            enhanced_fan_out=True,
        ),
        PeriodicJob(
            scope,
            f"Rates{suffix}",
            code_path=LAMBDA_SRC / "exchange_rates",
            schedule="rate(1 hour)",
            api_url="https://api.example.com/rates",
            table_access=TableAccess.of("dynamodb:PutItem"),
        ),
        WebApp(
            scope,
            f"Web{suffix}",
            site_path=SITE,
            self_sign_up=False,
            site_exclude=SITE_TEST_FILES,
            code_path=LAMBDA_SRC / "notes_api",
            table_access=TableAccess.read_write(),
        ),
    ]


Built = list[tuple[Stack, list[Pattern], dict[str, Any]]]


@pytest.fixture(scope="module")
def twice() -> Built:
    """Two of every pattern side by side in one stack, and the same ids under two parents in another (one
    stack for all would pass CloudFormation's 500 resources)."""
    app = new_app()
    env = Environment(account="111111111111", region="eu-west-1")
    side_by_side = Stack(app, "Shop", env=env)
    parents = Stack(app, "Teams", env=env)
    built = [
        (side_by_side, [*_patterns(side_by_side), *_patterns(side_by_side, "Too")]),
        (parents, [*_patterns(Construct(parents, "TeamA")), *_patterns(Construct(parents, "TeamB"))]),
    ]
    return [(stack, patterns, dict(Template.from_stack(stack).to_json())) for stack, patterns in built]


def _own_logical_ids(stack: Stack, pattern: IConstruct) -> set[str]:
    return {stack.resolve(c.logical_id) for c in pattern.node.find_all() if isinstance(c, CfnElement)}


def _references(value: Any) -> set[str]:
    """Logical ids a resolved CloudFormation value refers to (Ref, Fn::GetAtt)."""
    if isinstance(value, dict):
        if "Ref" in value:
            return {value["Ref"]}
        if "Fn::GetAtt" in value:
            return {value["Fn::GetAtt"][0]}
        return set().union(*(_references(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value)) if value else set()
    return set()


def _dimension_values(properties: dict[str, Any]) -> list[Any]:
    values = [d["Value"] for d in properties.get("Dimensions", [])]
    for query in properties.get("Metrics", []):
        values += [d["Value"] for d in query.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])]
    return values


def _api_names(patterns: list[Pattern], *, but: Pattern) -> set[str]:
    """The API names of every pattern except ``but`` (each WebApp's API is its backend's)."""
    services = [p.backend if isinstance(p, WebApp) else p for p in patterns if p is not but]
    return {service.api_name for service in services if isinstance(service, RestfulMicroservice)}


def _alarms(pattern: Pattern) -> list[cloudwatch.Alarm]:
    return list(pattern.alarms)


def test_every_alarm_watches_its_own_pattern_only(twice: Built) -> None:
    checked = 0
    for stack, patterns, template in twice:
        for pattern in patterns:
            own = _own_logical_ids(stack, pattern)
            own_names = {
                getattr(pattern, "api_name", None),
                getattr(getattr(pattern, "backend", None), "api_name", None),
            }
            for alarm in _alarms(pattern):
                properties = template["Resources"][logical_id(alarm)]["Properties"]
                for value in _dimension_values(properties):
                    if isinstance(value, str):
                        # A literal dimension is a name: the pattern's own API name or its stage.
                        assert value in own_names | {"api"}, (alarm.node.path, value)
                        assert value not in _api_names(patterns, but=pattern), (alarm.node.path, value)
                    else:
                        referenced = _references(value)
                        assert referenced and referenced <= own, (alarm.node.path, value)
                    checked += 1
    assert checked > 100  # every pattern's function, queue, API and stream alarms were looked at


def test_names_resolved_by_aws_differ_between_instances(twice: Built) -> None:
    resources = {lid: r for _, _, template in twice for lid, r in template["Resources"].items()}
    template = {"Resources": resources}

    def names(resource_type: str, key: str) -> list[str]:
        return [
            json.dumps(r["Properties"][key])
            for r in template["Resources"].values()
            if r["Type"] == resource_type and key in r["Properties"]
        ]

    for resource_type, key in (
        ("AWS::ApiGateway::RestApi", "Name"),
        ("AWS::CloudWatch::Alarm", "AlarmName"),
        ("AWS::Kinesis::StreamConsumer", "ConsumerName"),
        ("AWS::Cognito::UserPoolDomain", "Domain"),
    ):
        found = names(resource_type, key)
        assert len(found) >= 4 and len(found) == len(set(found)), (resource_type, found)
    api_names = sorted(json.loads(name) for name in names("AWS::ApiGateway::RestApi", "Name"))
    assert "Teams-TeamA/Orders" in api_names and "Teams-TeamB/Orders" in api_names
    assert "Shop-Orders" in api_names and "Shop-OrdersToo" in api_names


def test_every_web_app_may_deploy_its_site_through_the_shared_handler(twice: Built) -> None:
    for _, patterns, template in twice:
        _check_site_deployments(patterns, template)


def _check_site_deployments(patterns: list[Pattern], template: dict[str, Any]) -> None:
    handlers = [
        resource
        for lid, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function" and lid.startswith("CustomCDKBucketDeployment")
    ]
    roles = {json.dumps(handler["Properties"]["Role"]) for handler in handlers}
    assert len(roles) == 1, roles  # one singleton handler (aws-cdk-lib), one role of the stack
    (role_arn,) = [json.loads(role) for role in roles]
    role = role_arn["Fn::GetAtt"][0]
    granted = json.dumps(
        [
            r["Properties"]["PolicyDocument"]
            for r in template["Resources"].values()
            if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]
        ]
    )
    web_apps = [p for p in patterns if isinstance(p, WebApp)]
    assert len(web_apps) == 2
    for web_app in web_apps:
        # Each site's bucket objects (write/prune) and its distribution (invalidate) are granted.
        assert logical_id(web_app.bucket) in granted, web_app.node.path
        assert logical_id(web_app.distribution) in granted, web_app.node.path
