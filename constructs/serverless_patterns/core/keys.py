"""Customer-managed KMS keys: the key policy statements a service needs before it can use a key.

Patterns take one ``encryption_key`` for everything they store at rest. Services that use the key with
their *own* identity (not a role of ours that a grant covers) need a statement in the key policy:
CloudWatch Logs (log groups) and CloudFront (an OAC reading an SSE-KMS bucket). ``key_for_logs`` adds the
CloudWatch Logs statement, once per key, and returns the key, so a pattern writes
``logs.LogGroup(..., encryption_key=key_for_logs(key))``. The CloudFront statement is added by
aws-cdk-lib's ``S3BucketOrigin.with_origin_access_control`` itself (``kms:Decrypt`` for distributions of
this account: naming the one distribution would make key -> distribution -> bucket -> key a cycle).

A key imported with ``kms.Key.from_key_arn`` has a policy CDK cannot change: these helpers then add
nothing, and that key's policy must already allow the service (see each helper's docstring).
"""

from __future__ import annotations

from typing import TypedDict

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from constructs import Construct, IConstruct
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.validation import check_instance

#: What CloudWatch Logs does with a log group's key (AWS's documented statement, without wildcards).
LOGS_KEY_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
)


#: What a function that writes a table encrypted with a customer-managed key may do with the key: CDK's
#: ``grant_encrypt_decrypt`` without its wildcards (data keys and re-encryption spelled out).
TABLE_WRITE_KEY_ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)


def check_encryption_key(encryption_key: kms.IKey | None) -> None:
    """Raises TypeError when ``encryption_key`` is neither ``None`` nor a ``kms.IKey``."""
    if encryption_key is not None:
        check_instance("encryption_key", encryption_key, kms.IKey, "a kms.IKey")


def key_for_logs(encryption_key: kms.IKey | None) -> kms.IKey | None:
    """``encryption_key``, after allowing CloudWatch Logs of this account and region to use it for log
    groups (``kms:EncryptionContext:aws:logs:arn`` like ``arn:...:logs:<region>:<account>:log-group:*``).

    ``None`` stays ``None`` (CloudWatch Logs' own encryption). Pass the result as a log group's
    ``encryption_key``. An imported key must already carry an equivalent statement.
    """
    if encryption_key is None:
        return None
    stack = Stack.of(encryption_key)
    _add_once(
        encryption_key,
        "AllowCloudWatchLogs",
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccountAndRegion",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=list(LOGS_KEY_ACTIONS),
            resources=["*"],  # in a key policy, "*" is this key
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        ),
    )
    return encryption_key


def _add_once(encryption_key: kms.IKey, marker: str, statement: iam.PolicyStatement) -> None:
    """Add ``statement`` to the key's policy unless a pattern already did (a marker child remembers)."""
    if isinstance(encryption_key, Construct):
        if encryption_key.node.try_find_child(marker) is not None:
            return
        Construct(encryption_key, marker)  # no resource: only remembers that the statement is there
    encryption_key.add_to_resource_policy(statement)


#: Why a log group without ``encryption_key`` is acceptable (NIST 800-53 R5 asks for a KMS key).
NO_KEY_FOR_LOGS = (
    "No encryption_key was given: CloudWatch Logs encrypts this log group at rest with its own keys. "
    "Pass encryption_key to encrypt it with a customer-managed key (the prod reference stacks do)."
)


def acknowledge_default_log_encryption(log_group: IConstruct, encryption_key: kms.IKey | None) -> None:
    """Without ``encryption_key``, acknowledge NIST's CloudWatchLogGroupEncrypted on ``log_group``."""
    if encryption_key is None:
        acknowledge(log_group, "NIST.800.53.R5-CloudWatchLogGroupEncrypted", NO_KEY_FOR_LOGS)


class AtRest(TypedDict):
    """The two arguments that shape everything a pattern stores (``**at_rest`` into builders)."""

    encryption_key: kms.IKey | None
    removal_policy: RemovalPolicy
