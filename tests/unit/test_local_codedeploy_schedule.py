"""The traffic-shift schedule of each CodeDeploy configuration (pure logic, no cloud)."""

from __future__ import annotations

import pytest

from local_cloud.codedeploy_config import (
    PREDEFINED,
    ShiftStep,
    TrafficRouting,
    predefined,
    shift_schedule,
)


def test_all_at_once_is_one_step_of_all_traffic() -> None:
    assert shift_schedule(TrafficRouting("AllAtOnce")) == [ShiftStep(0.0, 1.0)]


def test_a_canary_sends_its_share_then_everything_one_interval_later() -> None:
    assert shift_schedule(TrafficRouting("TimeBasedCanary", 10, 5)) == [
        ShiftStep(0.0, 0.1),
        ShiftStep(300.0, 1.0),
    ]


def test_linear_adds_its_share_every_interval_and_ends_at_all_traffic() -> None:
    steps = shift_schedule(TrafficRouting("TimeBasedLinear", 10, 1))
    assert [s.at for s in steps] == [60.0 * i for i in range(10)]
    assert [s.weight for s in steps] == pytest.approx([0.1 * (i + 1) for i in range(10)])
    assert shift_schedule(TrafficRouting("TimeBasedLinear", 30, 2)) == [
        ShiftStep(0.0, 0.3),
        ShiftStep(120.0, 0.6),
        ShiftStep(240.0, 0.9),
        ShiftStep(360.0, 1.0),
    ]


@pytest.mark.parametrize(
    ("name", "routing"),
    [
        ("CodeDeployDefault.LambdaAllAtOnce", TrafficRouting("AllAtOnce")),
        ("CodeDeployDefault.LambdaCanary10Percent5Minutes", TrafficRouting("TimeBasedCanary", 10, 5)),
        ("CodeDeployDefault.LambdaCanary10Percent30Minutes", TrafficRouting("TimeBasedCanary", 10, 30)),
        ("CodeDeployDefault.LambdaLinear10PercentEvery1Minute", TrafficRouting("TimeBasedLinear", 10, 1)),
        ("CodeDeployDefault.LambdaLinear10PercentEvery10Minutes", TrafficRouting("TimeBasedLinear", 10, 10)),
    ],
)
def test_predefined_lambda_configurations(name: str, routing: TrafficRouting) -> None:
    assert predefined(name) == routing
    assert name in PREDEFINED


def test_a_name_that_is_not_predefined_is_none() -> None:
    assert predefined("CodeDeployDefault.OneAtATime") is None
    assert predefined("MyConfig") is None


def test_custom_configurations_read_from_cloudformation_and_the_api() -> None:
    cfn = {"Type": "TimeBasedCanary", "TimeBasedCanary": {"CanaryInterval": 5, "CanaryPercentage": 10}}
    api = {"type": "TimeBasedLinear", "timeBasedLinear": {"linearInterval": 2, "linearPercentage": 25}}
    assert TrafficRouting.from_cloudformation(cfn) == TrafficRouting("TimeBasedCanary", 10, 5)
    assert TrafficRouting.from_cloudformation(api) == TrafficRouting("TimeBasedLinear", 25, 2)
    assert TrafficRouting.from_cloudformation(None) == TrafficRouting("AllAtOnce")
    assert TrafficRouting("TimeBasedCanary", 10, 5).to_api() == {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 5},
    }


@pytest.mark.parametrize(
    ("kind", "percent", "minutes", "message"),
    [
        ("Sometimes", 10, 5, "traffic routing type must be"),
        ("TimeBasedCanary", 0, 5, "percentage must be 1..99, got 0"),
        ("TimeBasedLinear", 100, 5, "percentage must be 1..99, got 100"),
        ("TimeBasedCanary", 10, 0, "interval must be >= 1 minute, got 0"),
    ],
)
def test_bad_routings_are_refused_naming_the_value(
    kind: str, percent: int, minutes: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        TrafficRouting(kind, percent, minutes)
