"""The one table vocabulary of every pattern: what a function may do with a table, and how a new one looks.

``TableAccess`` is the grant (one validator for every pattern), ``TableOptions`` the shape of a table a
pattern creates, ``build_table`` the one implementation (``TableV2``) with the library's defaults, and
``grant_table`` the grant, which covers the table's indexes and its customer-managed key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_

from constructs import Construct
from serverless_patterns.core.keys import TABLE_WRITE_KEY_ACTIONS
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.validation import check_instance, is_token

#: Actions that only read.
READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PartiQLSelect",
    "dynamodb:Query",
    "dynamodb:Scan",
)
#: Actions that change items.
WRITE_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PartiQLDelete",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
#: Every action ``TableAccess.of`` accepts: the item and query actions a function calls on a table.
TABLE_ACTIONS = tuple(sorted(READ_ACTIONS + WRITE_ACTIONS))
_PLAIN_READS = tuple(a for a in READ_ACTIONS if "PartiQL" not in a)
_PLAIN_WRITES = tuple(a for a in WRITE_ACTIONS if "PartiQL" not in a)


@dataclass(frozen=True)
class TableAccess:
    """What a function may do with its table (and the table's indexes). Build one with a factory.

    The same type in every pattern that has a table. ``read()`` holds no write action, so a read-only
    service cannot change data.

    Attributes:
        actions: the DynamoDB IAM actions granted (e.g. ``dynamodb:GetItem``), sorted.
    """

    actions: tuple[str, ...]

    @staticmethod
    def read() -> TableAccess:
        """GetItem, BatchGetItem, Query, Scan, ConditionCheckItem, DescribeTable."""
        return TableAccess(tuple(sorted(_PLAIN_READS)))

    @staticmethod
    def write() -> TableAccess:
        """PutItem, UpdateItem, DeleteItem, BatchWriteItem (no reads)."""
        return TableAccess(tuple(sorted(_PLAIN_WRITES)))

    @staticmethod
    def read_write() -> TableAccess:
        """Everything in ``read()`` and ``write()``."""
        return TableAccess(tuple(sorted(_PLAIN_READS + _PLAIN_WRITES)))

    @staticmethod
    def of(*actions: str) -> TableAccess:
        """Exactly these DynamoDB actions, e.g. ``TableAccess.of("dynamodb:GetItem", "dynamodb:Query")``.

        At least one; each one of ``TABLE_ACTIONS``, spelled as AWS spells it (no wildcards). A
        ``TransactWriteItems`` call needs the actions of its items (e.g. PutItem and UpdateItem).

        Raises:
            ValueError: no action, or one that is not in ``TABLE_ACTIONS``.
        """
        if not actions:
            raise ValueError("TableAccess.of needs at least one action, e.g. 'dynamodb:GetItem'")
        for action in actions:
            if action not in TABLE_ACTIONS:
                raise ValueError(
                    f"TableAccess.of actions must each be one of {', '.join(TABLE_ACTIONS)} "
                    f"(no wildcards), got {action!r}"
                )
        return TableAccess(tuple(sorted(set(actions))))

    @property
    def writes(self) -> bool:
        """True when any granted action changes items."""
        return any(action in WRITE_ACTIONS for action in self.actions)


@dataclass(frozen=True)
class TableOptions:
    """The shape of a table a pattern creates. Refused together with an existing ``table``.

    Args:
        partition_key: the partition key attribute.
        sort_key: the sort key attribute (default none).
        global_secondary_indexes: the table's GSIs (default none); the function's grant covers them.
        time_to_live_attribute: attribute holding an item's expiry in epoch seconds (default none).
        stream: what the table's DynamoDB stream records for each change (default none: no stream),
            e.g. ``StreamViewType.NEW_AND_OLD_IMAGES`` for a pipe that publishes the changes.

    Raises:
        TypeError: a key that is not a ``dynamodb.Attribute``.
    """

    partition_key: dynamodb.Attribute
    sort_key: dynamodb.Attribute | None = None
    global_secondary_indexes: Sequence[dynamodb.GlobalSecondaryIndexPropsV2] = field(default=())
    time_to_live_attribute: str | None = None
    stream: dynamodb.StreamViewType | None = None

    def __post_init__(self) -> None:
        check_instance(
            "TableOptions.partition_key", self.partition_key, dynamodb.Attribute, "a dynamodb.Attribute"
        )
        if self.sort_key is not None:
            check_instance("TableOptions.sort_key", self.sort_key, dynamodb.Attribute, "a dynamodb.Attribute")
        object.__setattr__(self, "global_secondary_indexes", tuple(self.global_secondary_indexes))


def string_key(name: str) -> dynamodb.Attribute:
    """A string key attribute called ``name``."""
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def resolve_table_options(
    table: dynamodb.ITable | None, table_options: TableOptions | None, default: TableOptions
) -> TableOptions | None:
    """The options of the table to create: ``None`` when ``table`` is given (refusing ``table_options``
    then), else ``table_options`` or the pattern's ``default``.

    Raises:
        ValueError: both ``table`` and ``table_options`` were given.
        TypeError: ``table`` is not a table or ``table_options`` not a ``TableOptions``.
    """
    if table is not None:
        check_instance("table", table, dynamodb.ITable, "an existing dynamodb table (ITable)")
        if table_options is not None:
            raise ValueError(
                "table_options describe a table this construct creates; leave them out when passing table="
            )
        return None
    if table_options is not None:
        check_instance("table_options", table_options, TableOptions, "a TableOptions")
    return table_options or default


def check_key_region(scope: Construct, encryption_key: kms.IKey | None) -> None:
    """A customer-managed key on a ``TableV2`` needs a stack with an explicit region.

    Raises:
        ValueError: ``encryption_key`` is given and the stack's region is unresolved.
    """
    if encryption_key is not None and is_token(Stack.of(scope).region):
        raise ValueError(
            "encryption_key needs a stack with an explicit region (env=Environment(region=...)): a "
            "TableV2 cannot render its customer-managed key in a region-agnostic stack; got an "
            "unresolved region"
        )


def build_table(
    scope: Construct,
    id: str,
    *,
    options: TableOptions,
    encryption_key: kms.IKey | None,
    removal_policy: RemovalPolicy,
    point_in_time_recovery: bool = True,
) -> dynamodb.TableV2:
    """An on-demand ``TableV2``: point-in-time recovery, the customer-managed ``encryption_key`` (else
    DynamoDB's owned key), deletion protection whenever the table is retained."""
    return dynamodb.TableV2(
        scope,
        id,
        partition_key=options.partition_key,
        sort_key=options.sort_key,
        billing=dynamodb.Billing.on_demand(),
        encryption=(
            dynamodb.TableEncryptionV2.customer_managed_key(encryption_key)
            if encryption_key is not None
            else dynamodb.TableEncryptionV2.dynamo_owned_key()
        ),
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        )
        if point_in_time_recovery
        else None,
        global_secondary_indexes=list(options.global_secondary_indexes) or None,
        time_to_live_attribute=options.time_to_live_attribute,
        dynamo_stream=options.stream,
        deletion_protection=removal_policy == RemovalPolicy.RETAIN,
        removal_policy=removal_policy,
    )


#: Actions that read through an index (the index ARN ``<table arn>/index/<name>`` is their resource too).
INDEX_ACTIONS = ("dynamodb:PartiQLSelect", "dynamodb:Query", "dynamodb:Scan")


def table_key(table: dynamodb.ITable, encryption_key: kms.IKey | None) -> kms.IKey | None:
    """The customer-managed key of ``table``: ``encryption_key`` when given, else the table's own
    (``table.encryption_key``: a ``TableV2``/``Table`` built with one, or imported with
    ``from_table_attributes(..., encryption_key=key)``), else ``None``.

    Raises:
        TypeError: ``encryption_key`` is not a ``kms.IKey``.
    """
    if encryption_key is not None:
        check_instance("encryption_key", encryption_key, kms.IKey, "a kms.IKey (e.g. kms.Key.from_key_arn)")
        return encryption_key
    return table.encryption_key


def grant_table(
    table: dynamodb.ITable,
    function: lambda_.Function,
    access: TableAccess,
    encryption_key: kms.IKey | None,
) -> None:
    """Grant ``access`` on ``table`` and its indexes to ``function``, and the matching use of the table's
    customer-managed key (``table_key``: decrypt to read, encrypt too to write).

    An imported table (``from_table_arn``/``from_table_name``/``from_table_attributes``) does not know its
    indexes, so access that reads by index (Query, Scan, PartiQLSelect) is also granted on
    ``<table arn>/index/*``: every index of that one table.
    """
    table.grant(function, *access.actions)
    assert function.role is not None
    key = table_key(table, encryption_key)
    if key is not None:
        _grant_key(key, function, access)
    table_resource = table.node.default_child
    if not isinstance(table_resource, dynamodb.CfnGlobalTable | dynamodb.CfnTable):
        _grant_imported_indexes(table, function, access)
        return
    stack = Stack.of(table)
    if not stack.resolve(table_resource.global_secondary_indexes):
        return
    table_arns = [f"<{stack.resolve(table_resource.logical_id)}.Arn>"]
    if Stack.of(function) is not stack:
        # A table of the user's other stack: once aws-cdk-lib has resolved the cross-stack reference, the
        # function's stack reads the ARN through the export it creates for the grant (export_value returns
        # that same export); cdk-nag run before that (as an Aspect, or on the construct tree) still sees
        # the table's own attribute. Both spellings name this one table.
        table_arns.append(_nag_resource(Stack.of(function), stack.export_value(table.table_arn)))
    for table_arn in table_arns:
        acknowledge(
            function.role,
            f"AwsSolutions-IAM5[Resource::{table_arn}/index/*]",
            "The table grant covers this one table's global secondary indexes (table ARN + '/index/*'), "
            "so the function can query them; nothing outside the table.",
        )


def _grant_key(key: kms.IKey, function: lambda_.Function, access: TableAccess) -> None:
    assert function.role is not None
    if not access.writes:
        key.grant_decrypt(function)
        return
    # grant_encrypt_decrypt's actions with its kms:GenerateDataKey*/kms:ReEncrypt* spelled out: no wildcard.
    key.grant(function, *TABLE_WRITE_KEY_ACTIONS)


def _grant_imported_indexes(table: dynamodb.ITable, function: lambda_.Function, access: TableAccess) -> None:
    actions = sorted(set(access.actions) & set(INDEX_ACTIONS))
    if not actions:
        return
    assert function.role is not None
    index_arn = f"{table.table_arn}/index/*"
    function.role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=[index_arn]))
    stack = Stack.of(function)
    acknowledge(
        function.role,
        f"AwsSolutions-IAM5[Resource::{_nag_resource(stack, index_arn)}]",
        "The function may query and scan the indexes of this one existing table (table ARN + "
        "'/index/*'); an imported table does not know its index names.",
    )


def _nag_resource(stack: Stack, value: str) -> str:
    """How cdk-nag spells a resource in a finding id: ``Fn::GetAtt``/``Ref`` as ``<Id.Attr>``/``<Id>``,
    pseudo parameters as ``<AWS::Region>``, ``Fn::ImportValue`` as the export's name, ``Fn::Join``
    concatenated."""
    resolved = stack.resolve(value)
    return _nag_text(resolved)


def _nag_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_nag_text(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if isinstance(value, dict) and "Fn::ImportValue" in value:
        return _nag_text(value["Fn::ImportValue"])
    return str(value)
