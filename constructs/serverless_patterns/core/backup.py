"""AWS Backup for the tables a pattern owns: a daily plan kept 35 days in the pattern's own vault.

DynamoDB's point-in-time recovery (always on) restores to any second of the last 35 days but lives and
dies with the table's account and region settings; a Backup vault keeps independent recovery points
that survive a dropped table and can carry a vault lock or be copied elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import CfnElement, Duration, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from constructs import Construct
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.trust import acknowledge_inline_policy, trusted_service

#: How long each daily recovery point is kept.
BACKUP_RETENTION = Duration.days(35)
#: When the daily backup starts (UTC); AWS Backup starts it within the following 8 hours.
BACKUP_SCHEDULE = events.Schedule.cron(hour="3", minute="0")

#: What AWS Backup does with a DynamoDB table (the DynamoDB part of AWSBackupServiceRolePolicyForBackup).
_TABLE_ACTIONS = [
    "dynamodb:DescribeTable",
    "dynamodb:CreateBackup",
    "dynamodb:ListTagsOfResource",
    "dynamodb:StartAwsBackupJob",
]
_BACKUP_ACTIONS = ["dynamodb:DescribeBackup", "dynamodb:DeleteBackup"]


@dataclass(frozen=True)
class TableBackup:
    """What ``back_up_tables`` builds."""

    vault: backup.BackupVault
    plan: backup.BackupPlan
    role: iam.Role


def back_up_tables(
    scope: Construct,
    tables: Sequence[dynamodb.ITable],
    *,
    encryption_key: kms.IKey | None,
    removal_policy: RemovalPolicy,
) -> TableBackup:
    """A vault (encrypted with ``encryption_key``, else AWS Backup's own key), a daily plan keeping each
    recovery point 35 days, and a selection of ``tables`` under a role that may back up exactly those
    tables (no AWS managed policy, confused-deputy conditions on its trust)."""
    vault = backup.BackupVault(
        scope, "BackupVault", encryption_key=encryption_key, removal_policy=removal_policy
    )
    plan = backup.BackupPlan(
        scope,
        "BackupPlan",
        backup_vault=vault,
        backup_plan_rules=[
            backup.BackupPlanRule(
                rule_name="Daily35Days", schedule_expression=BACKUP_SCHEDULE, delete_after=BACKUP_RETENTION
            )
        ],
    )
    role = iam.Role(
        scope,
        "BackupRole",
        assumed_by=trusted_service(scope, "backup.amazonaws.com"),
        description="AWS Backup: daily backups of this pattern's tables into its own vault (scoped)",
    )
    acknowledge_inline_policy(role)
    table_arns = [table.table_arn for table in tables]
    role.add_to_principal_policy(iam.PolicyStatement(actions=_TABLE_ACTIONS, resources=table_arns))
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=_BACKUP_ACTIONS, resources=[f"{arn}/backup/*" for arn in table_arns])
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["backup:DescribeBackupVault", "backup:CopyIntoBackupVault"],
            resources=[vault.backup_vault_arn],
        )
    )
    _acknowledge_backup_arns(role, tables)
    if encryption_key is not None:
        encryption_key.grant(role, "kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey")
    plan.add_selection(
        "Tables",
        resources=[backup.BackupResource.from_arn(arn) for arn in table_arns],
        # Without policy updates: CDK would attach the AWS managed backup policy to it.
        role=role.without_policy_updates(),
        allow_restores=False,
    )
    return TableBackup(vault=vault, plan=plan, role=role)


def check_backup(backup: bool, *, owns_table: bool) -> None:
    """Raises TypeError unless ``backup`` is a bool, ValueError when it is True for a table passed in."""
    if not isinstance(backup, bool):
        raise TypeError(f"backup must be True or False, got {backup!r}")
    if backup and not owns_table:
        raise ValueError(
            "backup=True backs up the tables this pattern creates; with table= the table is defined "
            "elsewhere: back it up there (or leave backup False)"
        )


def _acknowledge_backup_arns(role: iam.Role, tables: Sequence[dynamodb.ITable]) -> None:
    """The on-demand backups' ARNs carry an id DynamoDB assigns per backup: ``<table>/backup/*``."""
    for table in tables:
        resource = table.node.default_child
        if not isinstance(resource, CfnElement):
            continue
        logical_id = Stack.of(resource).resolve(resource.logical_id)
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/backup/*]",
            "AWS Backup describes and expires the backups it made of this one table; DynamoDB names each "
            "backup with an id it assigns at backup time, so only '<table>/backup/*' can name them.",
        )
