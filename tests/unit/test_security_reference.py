"""Security hardening (issue 13) in the reference stacks: dev keeps the options off, prod turns them on.

Prod: one rotated customer-managed key per stack that stores data, named by every data store and log
group; a web ACL on each REST stage and on the notes distribution, logging to ``aws-waf-logs-*``; an AWS
Backup plan per owned table. Both stages: every service trust carries confused-deputy conditions.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness.synth import SynthesizedApp

KEYED_STACKS = ("Clickstream", "ExchangeRatesJob", "OrdersApi", "NotesApp")
#: Stacks that own a table (one backed-up table each; the job's idempotency table is never backed up).
TABLE_STACKS = KEYED_STACKS
API_STACKS = ("OrdersApi", "NotesApp")
KEY_REF = {"Fn::GetAtt": ["Key961B73FD", "Arn"]}


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


def props(resource: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = resource.get("Properties", {})
    return properties


# ---- keys --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", KEYED_STACKS)
def test_prod_has_one_rotated_key_per_stack(stack: str, prod_app: SynthesizedApp) -> None:
    keys = of_type(prod_app.templates[stack], "AWS::KMS::Key")
    assert list(keys) == ["Key961B73FD"]
    assert props(keys["Key961B73FD"])["EnableKeyRotation"] is True


@pytest.mark.parametrize("stack", KEYED_STACKS)
def test_dev_keeps_aws_encryption_defaults(stack: str, dev_app: SynthesizedApp) -> None:
    template = dev_app.templates[stack]
    assert of_type(template, "AWS::KMS::Key") == {}
    for group in of_type(template, "AWS::Logs::LogGroup").values():
        assert "KmsKeyId" not in props(group)
    for queue in of_type(template, "AWS::SQS::Queue").values():
        assert props(queue)["SqsManagedSseEnabled"] is True


@pytest.mark.parametrize("stack", KEYED_STACKS)
def test_every_store_and_log_group_in_prod_names_the_stacks_key(stack: str, prod_app: SynthesizedApp) -> None:
    template = prod_app.templates[stack]
    groups = of_type(template, "AWS::Logs::LogGroup")
    assert groups
    for lid, group in groups.items():
        assert props(group).get("KmsKeyId") == KEY_REF, lid
    for lid, queue in of_type(template, "AWS::SQS::Queue").items():
        assert props(queue).get("KmsMasterKeyId") == KEY_REF, lid
    for lid, table in of_type(template, "AWS::DynamoDB::GlobalTable").items():
        assert props(table)["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}, lid
        assert props(table)["Replicas"][0]["SSESpecification"] == {"KMSMasterKeyId": KEY_REF}, lid
    for lid, stream in of_type(template, "AWS::Kinesis::Stream").items():
        assert props(stream)["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": KEY_REF}, lid
    for lid, secret in of_type(template, "AWS::SecretsManager::Secret").items():
        assert props(secret)["KmsKeyId"] == KEY_REF, lid
    for lid, vault in of_type(template, "AWS::Backup::BackupVault").items():
        assert props(vault)["EncryptionKeyArn"] == KEY_REF, lid


def test_prod_site_bucket_is_sse_kms_and_the_log_bucket_sse_s3(prod_app: SynthesizedApp) -> None:
    buckets = of_type(prod_app.templates["NotesApp"], "AWS::S3::Bucket")
    site = props(buckets["NotesSiteBucketD6A410D9"])["BucketEncryption"]["ServerSideEncryptionConfiguration"][
        0
    ]
    assert site["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_REF}
    assert site["BucketKeyEnabled"] is True
    # CloudFront standard logging cannot write into an SSE-KMS bucket (acknowledged next to the bucket).
    logs = props(buckets["NotesAccessLogBucket34B0D1A8"])["BucketEncryption"]
    assert logs["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }


def _key_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = props(template["Resources"]["Key961B73FD"])["KeyPolicy"]["Statement"]
    return statements


@pytest.mark.parametrize("stack", KEYED_STACKS)
def test_key_policy_lets_exactly_the_services_that_use_the_key(stack: str, prod_app: SynthesizedApp) -> None:
    statements = _key_statements(prod_app.templates[stack])
    services = sorted(s["Principal"]["Service"] for s in statements if "Service" in s["Principal"])
    # CloudWatch Logs everywhere (log groups); CloudFront only where an OAC reads the SSE-KMS site bucket.
    expected = ["logs.us-east-1.amazonaws.com"]
    if stack == "NotesApp":
        expected = ["cloudfront.amazonaws.com", "logs.us-east-1.amazonaws.com"]
    assert services == expected
    logs = next(s for s in statements if s["Principal"].get("Service", "").startswith("logs."))
    assert "*" not in "".join(logs["Action"])
    context = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert context == {
        "Fn::Join": ["", ["arn:aws:logs:us-east-1:", {"Ref": "AWS::AccountId"}, ":log-group:*"]]
    }


def test_cloudfront_may_only_decrypt_for_distributions_of_this_account(prod_app: SynthesizedApp) -> None:
    statements = _key_statements(prod_app.templates["NotesApp"])
    cloudfront = next(s for s in statements if s["Principal"].get("Service") == "cloudfront.amazonaws.com")
    assert cloudfront["Action"] == "kms:Decrypt"
    source = cloudfront["Condition"]["ArnLike"]["AWS:SourceArn"]["Fn::Join"][1]
    assert source[2:] == [":cloudfront::", {"Ref": "AWS::AccountId"}, ":distribution/*"]


# ---- WAF ---------------------------------------------------------------------------------------------
MANAGED = [
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
]


def _check_acl(template: dict[str, Any], acl_id: str, scope: str) -> None:
    acl = props(template["Resources"][acl_id])
    assert acl["Scope"] == scope
    assert acl["DefaultAction"] == {"Allow": {}}
    rules = sorted(acl["Rules"], key=lambda rule: rule["Priority"])
    assert [rule["Name"] for rule in rules] == [*MANAGED, "RateLimitPerClientIp"]
    for rule in rules[:3]:
        assert rule["Statement"]["ManagedRuleGroupStatement"]["VendorName"] == "AWS"
        assert rule["OverrideAction"] == {"None": {}}
    rate = rules[3]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "Limit": 1000,
        "EvaluationWindowSec": 300,
    }
    logging = [
        props(r)
        for r in of_type(template, "AWS::WAFv2::LoggingConfiguration").values()
        if props(r)["ResourceArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    ]
    assert len(logging) == 1
    destination = logging[0]["LogDestinationConfigs"][0]["Fn::Join"][1]
    group = props(template["Resources"][destination[-1]["Ref"]])
    assert group["LogGroupName"].startswith("aws-waf-logs-")
    assert group["RetentionInDays"] == 365
    assert group["KmsKeyId"] == KEY_REF


@pytest.mark.parametrize("stack", API_STACKS)
def test_prod_rest_stages_have_a_web_acl(stack: str, prod_app: SynthesizedApp) -> None:
    template = prod_app.templates[stack]
    stage_id = next(iter(of_type(template, "AWS::ApiGateway::Stage")))
    associations = of_type(template, "AWS::WAFv2::WebACLAssociation")
    assert len(associations) == 1
    association = props(next(iter(associations.values())))
    assert {"Ref": stage_id} in association["ResourceArn"]["Fn::Join"][1]
    acl_id = association["WebACLArn"]["Fn::GetAtt"][0]
    _check_acl(template, acl_id, "REGIONAL")


def test_prod_notes_distribution_has_a_cloudfront_web_acl(prod_app: SynthesizedApp) -> None:
    template = prod_app.templates["NotesApp"]
    distribution = props(next(iter(of_type(template, "AWS::CloudFront::Distribution").values())))
    acl_id = distribution["DistributionConfig"]["WebACLId"]["Fn::GetAtt"][0]
    _check_acl(template, acl_id, "CLOUDFRONT")
    assert prod_app.stacks["NotesApp"].region == "us-east-1"


@pytest.mark.parametrize("stack", API_STACKS)
def test_dev_has_no_waf(stack: str, dev_app: SynthesizedApp) -> None:
    template = dev_app.templates[stack]
    assert of_type(template, "AWS::WAFv2::WebACL") == {}
    assert of_type(template, "AWS::WAFv2::WebACLAssociation") == {}


# ---- backups -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", TABLE_STACKS)
def test_prod_backs_up_the_owned_table_daily_for_35_days(stack: str, prod_app: SynthesizedApp) -> None:
    template = prod_app.templates[stack]
    plans = of_type(template, "AWS::Backup::BackupPlan")
    assert len(plans) == 1
    (rule,) = props(next(iter(plans.values())))["BackupPlan"]["BackupPlanRule"]
    assert rule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert rule["Lifecycle"] == {"DeleteAfterDays": 35}
    (vault_id,) = of_type(template, "AWS::Backup::BackupVault")
    assert rule["TargetBackupVault"] == {"Fn::GetAtt": [vault_id, "BackupVaultName"]}
    (selection,) = (
        props(r)["BackupSelection"] for r in of_type(template, "AWS::Backup::BackupSelection").values()
    )
    tables = [lid for lid in of_type(template, "AWS::DynamoDB::GlobalTable") if "Idempotency" not in lid]
    assert selection["Resources"] == [{"Fn::GetAtt": [tables[0], "Arn"]}]
    role = props(template["Resources"][selection["IamRoleArn"]["Fn::GetAtt"][0]])
    assert not role.get("ManagedPolicyArns"), "no AWS managed backup policy"


@pytest.mark.parametrize("stack", TABLE_STACKS)
def test_dev_has_no_backup_plan(stack: str, dev_app: SynthesizedApp) -> None:
    assert of_type(dev_app.templates[stack], "AWS::Backup::BackupPlan") == {}


# ---- confused deputy ---------------------------------------------------------------------------------
#: Services that send aws:SourceArn, and the resource type the trust names.
SOURCE_ARN = {
    "codedeploy.amazonaws.com": ":deploymentgroup:",
    "scheduler.amazonaws.com": ":schedule/",
    "pipes.amazonaws.com": ":pipe/",
}


def test_every_service_trust_has_confused_deputy_conditions(any_app: SynthesizedApp) -> None:
    app, stage = any_app, any_app.stage
    services = set()
    for template in app.templates.values():
        for lid, role in of_type(template, "AWS::IAM::Role").items():
            for statement in props(role)["AssumeRolePolicyDocument"]["Statement"]:
                service = statement["Principal"]["Service"]
                services.add(service)
                condition = statement.get("Condition", {})
                assert condition.get("StringEquals") == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}, lid
                if service in SOURCE_ARN:
                    source = condition["ArnLike"]["aws:SourceArn"]["Fn::Join"][1]
                    assert SOURCE_ARN[service] in "".join(p for p in source if isinstance(p, str)), lid
    expected = {"lambda.amazonaws.com", "codedeploy.amazonaws.com", "scheduler.amazonaws.com"}
    expected |= {"apigateway.amazonaws.com", "pipes.amazonaws.com"}
    if stage == "prod":
        expected.add("backup.amazonaws.com")
    assert services == expected
