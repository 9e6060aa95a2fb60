"""Stack updates in the local cloud modify changed resources in dependency order, as CloudFormation does."""

from __future__ import annotations

from typing import Any

from local_cloud.update_order import dependencies, in_dependency_order

# The orders stack's shape: the alias (before the hook in template order) names the hook in its
# UpdatePolicy; the hook's environment names the new version, which names the function.
RESOURCES: dict[str, Any] = {
    "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "new"}}},
    "FnVersionNew": {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": {"Ref": "Fn"}}},
    "Live": {
        "Type": "AWS::Lambda::Alias",
        "Properties": {"FunctionVersion": {"Fn::GetAtt": ["FnVersionNew", "Version"]}},
        "UpdatePolicy": {
            "CodeDeployLambdaAliasUpdate": {
                "ApplicationName": {"Ref": "App"},
                "BeforeAllowTrafficHook": {"Ref": "Hook"},
            }
        },
    },
    "App": {"Type": "AWS::CodeDeploy::Application"},
    "Hook": {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Environment": {"Variables": {"TARGET": {"Ref": "FnVersionNew"}}}},
    },
    "Alarm": {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {"AlarmName": {"Fn::Sub": "${Fn}-errors"}},
        "DependsOn": "Live",
    },
}


def test_the_hook_is_updated_before_the_alias_that_names_it() -> None:
    needs = dependencies(["Fn", "Live", "Hook", "Alarm"], RESOURCES)
    assert needs == {"Fn": set(), "Live": {"Fn", "Hook"}, "Hook": {"Fn"}, "Alarm": {"Fn", "Live"}}
    assert in_dependency_order(needs) == ["Fn", "Hook", "Live", "Alarm"]


def test_independent_resources_keep_template_order_and_a_cycle_does_not_hang() -> None:
    cyclic = {"A": {"Properties": {"X": {"Ref": "B"}}}, "B": {"Properties": {"X": {"Ref": "A"}}}, "C": {}}
    assert in_dependency_order(dependencies(["C", "A", "B"], cyclic)) == ["C", "A", "B"]
