"""Resource types moto's CloudFormation lacks (or only half-creates), added so our templates deploy unedited.

moto's CloudFormation builds its type table from the direct subclasses of ``CloudFormationModel``;
every class made by ``@resource_type`` below is one, defined after moto's own, so it is found (and
wins over a partial moto implementation of the same type). Each creator makes the real resource in
the local cloud through the service's own API (boto3 against the local moto server), so what it
creates is inspectable with the AWS CLI like anything else.

Types that cannot be emulated locally (CloudFront, WAF, AWS Backup, custom resources,
autoscaling, ...) are accepted as placeholders and recorded in ``NOT_EMULATED`` with what stands in
for them; ``LocalCloud`` prints that list after every deployment, so nothing is skipped silently.

Call ``install(endpoint_url, credentials)`` once, after the moto server is up and before a stack is
created.
"""

from __future__ import annotations

import contextlib
import io
import json
import mimetypes
import secrets
import string
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import moto.cloudformation.parsing as cfn_parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel

from local_cloud.settings import ACCOUNT_ID, REGION


@dataclass(frozen=True)
class NotEmulated:
    """One resource accepted as a placeholder: what it is, and what stands in for it locally."""

    stack_name: str
    logical_id: str
    resource_type: str
    stand_in: str


@dataclass
class Created:
    """What a creator returns: the ``Ref`` value and the ``Fn::GetAtt`` attributes of the resource."""

    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreateRequest:
    """One resource to create: its resolved properties, the name moto generated, where it belongs."""

    logical_id: str
    resource_type: str
    properties: dict[str, Any]
    generated_name: str
    stack_name: str
    update_policy: dict[str, Any] = field(default_factory=dict)
    """The resource's resolved ``UpdatePolicy`` (on a stack update), e.g. CodeDeployLambdaAliasUpdate."""

    def name(self, key: str, limit: int = 255) -> str:
        """The explicit name property ``key``, else the generated name (cut to ``limit``)."""
        explicit = self.properties.get(key)
        return str(explicit) if explicit else self.generated_name[:limit]


#: Every placeholder created so far, in creation order (read by ``LocalCloud`` for its report).
NOT_EMULATED: list[NotEmulated] = []
#: Types emulated with a caveat worth telling the user: type -> the caveat.
CAVEATS: dict[str, str] = {}
#: Provisioned concurrency the templates asked for: alias ARN -> environments (pre-warmed locally).
PROVISIONED_CONCURRENCY: dict[str, int] = {}
#: Called with (function name, alias name) once an alias's provisioned concurrency is set or its alias
#: moved by a stack (the local runtime's ``provision``: environments initialized before traffic).
ON_PROVISIONED_CONCURRENCY: list[Callable[[str, str], Any]] = []
#: Types this module creates (or completes), for the report and the tests.
SUPPORTED_TYPES: list[str] = []

#: Resources whose creation failed (the deployer reports them with the stack's failure).
_FAILURES: list[str] = []
_lock = threading.Lock()
_connection: dict[str, Any] = {}


def install(endpoint_url: str, credentials: dict[str, str]) -> None:
    """Point the creators at the local moto server and register every type with moto's CloudFormation."""
    _connection.update(endpoint_url=endpoint_url, credentials=dict(credentials))
    cfn_parsing.get_model_list.cache_clear()
    cfn_parsing.get_model_map.cache_clear()
    cfn_parsing.get_name_type_map.cache_clear()
    if getattr(cfn_parsing.resource_class_from_type, "_local_cloud", False):
        return
    original = cfn_parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str) -> type[CloudFormationModel]:
        # moto sends every Custom:: type to its own custom-resource model, which needs Docker to run
        # the provider function; ours are placeholders listed as not emulated instead.
        if resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource":
            return _custom_resource_class(resource_type)
        return original(resource_type)

    resource_class_from_type._local_cloud = True  # type: ignore[attr-defined]
    cfn_parsing.resource_class_from_type = resource_class_from_type


def take_failures() -> list[str]:
    """The resource failures recorded since the last call (and forget them)."""
    failures = list(_FAILURES)
    _FAILURES.clear()
    return failures


def client(service: str) -> Any:
    """A boto3 client for the local cloud, with the deploying administrator's credentials."""
    credentials = _connection["credentials"]
    endpoint = _connection["endpoint_url"]
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=credentials.get("AWS_SESSION_TOKEN"),
    )


class _LocalResource:
    """Behaviour shared by every type defined here: ``Ref`` and ``Fn::GetAtt`` from a ``Created``."""

    def __init__(self, created: Created) -> None:
        self._created = created

    @property
    def physical_resource_id(self) -> str:
        return self._created.physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in self._created.attributes:
            return self._created.attributes[attribute_name]
        raise UnformattedGetAttTemplateException()

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource: Any, new_resource_name: str = "", cloudformation_json: Any = None, **_: Any
    ) -> Any:
        update = UPDATERS.get(cls.cloudformation_type())  # type: ignore[attr-defined]
        if update is None or cloudformation_json is None:
            return original_resource
        request = CreateRequest(
            logical_id=str(getattr(original_resource, "logical_resource_id", new_resource_name)),
            resource_type=cls.cloudformation_type(),  # type: ignore[attr-defined]
            properties=dict(cloudformation_json.get("Properties") or {}),
            generated_name=new_resource_name,
            stack_name="",
            update_policy=dict(cloudformation_json.get("UpdatePolicy") or {}),
        )
        return cls(update(original_resource.physical_resource_id, request))

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str = "", *_: Any, **__: Any) -> None:
        delete = DELETERS.get(cls.cloudformation_type())  # type: ignore[attr-defined]
        if delete is not None and resource_name:
            delete(resource_name)


def _stack_name(stack_id: str) -> str:
    # arn:aws:cloudformation:region:account:stack/NAME/uuid
    return stack_id.split(":stack/", 1)[-1].split("/", 1)[0]


def _make_class(resource_type: str, create: Callable[[CreateRequest], Created]) -> type[CloudFormationModel]:
    def create_from_cloudformation_json(
        cls: type[_LocalResource],
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _LocalResource:
        request = CreateRequest(
            logical_id=str(kwargs.get("LogicalId", resource_name)),
            resource_type=resource_type,
            properties=dict(cloudformation_json.get("Properties") or {}),
            generated_name=resource_name,
            stack_name=_stack_name(str(kwargs.get("StackId", ""))),
        )
        try:
            return cls(create(request))
        except Exception as error:
            # moto turns any exception into a bare HTTP error; say which resource failed and why.
            _FAILURES.append(f"{request.stack_name}/{request.logical_id} ({resource_type}): {error!r}")
            raise

    namespace = {
        "cloudformation_type": staticmethod(lambda: resource_type),
        "cloudformation_name_type": staticmethod(lambda: ""),
        "create_from_cloudformation_json": classmethod(create_from_cloudformation_json),
        "__module__": __name__,
    }
    name = "Local" + resource_type.replace("::", "")
    return type(name, (_LocalResource, CloudFormationModel), namespace)


#: Resource types updated in place (physical ID, new properties) rather than kept as created.
UPDATERS: dict[str, Callable[[str, CreateRequest], Created]] = {}
#: Resource types whose stand-in is removed when the stack (or the resource) is deleted.
DELETERS: dict[str, Callable[[str], None]] = {}


def resource_type(
    type_name: str,
    caveat: str | None = None,
    *,
    update: Callable[[str, CreateRequest], Created] | None = None,
    delete: Callable[[str], None] | None = None,
) -> Callable[[Callable[[CreateRequest], Created]], Callable[[CreateRequest], Created]]:
    """Register ``create`` as the creator of ``type_name`` in moto's CloudFormation (and ``update``,
    ``delete`` for a stack update or deletion; without them the resource is kept as created)."""
    if update is not None:
        UPDATERS[type_name] = update
    if delete is not None:
        DELETERS[type_name] = delete

    def register(create: Callable[[CreateRequest], Created]) -> Callable[[CreateRequest], Created]:
        _make_class(type_name, create)
        SUPPORTED_TYPES.append(type_name)
        if caveat:
            CAVEATS[type_name] = caveat
        return create

    return register


def not_emulated(type_name: str, stand_in: str) -> None:
    """Accept ``type_name`` as a placeholder that records itself in ``NOT_EMULATED``."""

    def create(request: CreateRequest) -> Created:
        with _lock:
            NOT_EMULATED.append(
                NotEmulated(request.stack_name, request.logical_id, request.resource_type, stand_in)
            )
        physical = f"{request.logical_id}-not-emulated"
        return Created(physical, _Placeholder(physical, request.resource_type))

    _make_class(type_name, create)


class _Placeholder(dict[str, Any]):
    """Attributes of a placeholder: any ``Fn::GetAtt`` answers with a recognisable string."""

    def __init__(self, physical_id: str, resource_type: str = "") -> None:
        super().__init__()
        self._physical_id = physical_id
        self._service = resource_type.split("::")[1].lower() if resource_type.count("::") == 2 else ""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        if key == "DomainName":  # a distribution's domain: callback URLs and origins are built from it
            return f"{self._physical_id.lower()}.cloudfront.net"
        if key.endswith("Arn") and self._service:  # policies refer to it: it must look like an ARN
            return f"arn:aws:{self._service}:{REGION}:{ACCOUNT_ID}:{self._physical_id}"
        return f"{self._physical_id}-{key}"


_CUSTOM_CLASSES: dict[str, type[CloudFormationModel]] = {}


def _custom_resource_class(type_name: str) -> type[CloudFormationModel]:
    with _lock:
        if type_name not in _CUSTOM_CLASSES:

            def create(request: CreateRequest) -> Created:
                emulate = _CUSTOM_EMULATIONS.get(request.resource_type)
                if emulate is not None:
                    return emulate(request)
                stand_in = _CUSTOM_STAND_INS.get(
                    request.resource_type,
                    "nothing: its provider function is not run locally; its outputs are placeholders",
                )
                with _lock:
                    NOT_EMULATED.append(
                        NotEmulated(request.stack_name, request.logical_id, request.resource_type, stand_in)
                    )
                physical = f"{request.logical_id}-not-emulated"
                return Created(physical, _Placeholder(physical))

            _CUSTOM_CLASSES[type_name] = _make_class(type_name, create)
        return _CUSTOM_CLASSES[type_name]


_CUSTOM_STAND_INS: dict[str, str] = {}


def _bucket_deployment(request: CreateRequest) -> Created:
    """What the CDK's BucketDeployment provider does: unzip each source into the bucket, markers filled in."""
    props = request.properties
    s3 = client("s3")
    destination = props["DestinationBucketName"]
    prefix = str(props.get("DestinationBucketKeyPrefix", "")).strip("/")
    markers_list = props.get("SourceMarkers") or [{} for _ in props["SourceObjectKeys"]]
    written = []
    for bucket, key, markers in zip(
        props["SourceBucketNames"], props["SourceObjectKeys"], markers_list, strict=True
    ):
        archive = zipfile.ZipFile(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
        for name in archive.namelist():
            if name.endswith("/"):
                continue
            data = archive.read(name)
            if markers:
                text = data.decode("utf-8", errors="surrogateescape")
                for marker, value in markers.items():
                    text = text.replace(marker, str(value))
                data = text.encode("utf-8", errors="surrogateescape")
            target = f"{prefix}/{name}" if prefix else name
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            s3.put_object(Bucket=destination, Key=target, Body=data, ContentType=content_type)
            written.append(target)
    CAVEATS["Custom::CDKBucketDeployment"] = (
        "done by the local cloud itself (its provider function is not run)"
    )
    return Created(
        f"aws.cdk.s3deployment.{request.logical_id}",
        {"DestinationBucketArn": f"arn:aws:s3:::{destination}", "SourceObjectKeys": written},
    )


_CUSTOM_EMULATIONS: dict[str, Callable[[CreateRequest], Created]] = {
    "Custom::CDKBucketDeployment": _bucket_deployment,
}


# ---- Lambda ------------------------------------------------------------------------------------
@resource_type("AWS::Lambda::Version")
def _lambda_version(request: CreateRequest) -> Created:
    # moto publishes the version but answers neither Ref (the version ARN) nor GetAtt Version.
    published = client("lambda").publish_version(FunctionName=request.properties["FunctionName"])
    return Created(published["FunctionArn"], {"Version": published["Version"]})


@dataclass(frozen=True)
class AliasDeployment:
    """A stack update moving an alias to another version: what a deployment step receives."""

    function_name: str
    alias_name: str
    from_version: str
    to_version: str
    properties: dict[str, Any]
    update_policy: dict[str, Any] = field(default_factory=dict)
    """The alias's resolved ``UpdatePolicy`` (``CodeDeployLambdaAliasUpdate``: CodeDeploy moves it)."""
    logical_id: str = ""


def all_at_once(deployment: AliasDeployment) -> dict[str, Any]:
    """The default deployment step: the alias points at the new version at once. Returns the alias."""
    result: dict[str, Any] = client("lambda").update_alias(
        FunctionName=deployment.function_name,
        Name=deployment.alias_name,
        FunctionVersion=deployment.to_version,
    )
    return result


#: The deployment step every alias update goes through (``cdk deploy`` of new code). Replace it to
#: deploy otherwise; it must return the alias. ``stack_updates.install`` puts CodeDeploy's in place:
#: an alias with a CodeDeployLambdaAliasUpdate policy moves through a deployment (``codedeploy.py``).
DEPLOY_ALIAS: list[Callable[[AliasDeployment], dict[str, Any]]] = [all_at_once]


def _update_lambda_alias(physical_id: str, request: CreateRequest) -> Created:
    props = request.properties
    function_name, alias_name = str(props["FunctionName"]), str(props["Name"])
    current = client("lambda").get_alias(FunctionName=function_name, Name=alias_name)
    deployment = AliasDeployment(
        function_name,
        alias_name,
        str(current["FunctionVersion"]),
        str(props["FunctionVersion"]),
        props,
        request.update_policy,
        request.logical_id,
    )
    alias = DEPLOY_ALIAS[0](deployment)
    _provisioned_concurrency(alias["AliasArn"], props)
    return Created(alias["AliasArn"], {"AliasArn": alias["AliasArn"]})


def _provisioned_concurrency(alias_arn: str, props: dict[str, Any]) -> None:
    """Record the alias's provisioned concurrency (none: forgotten) and have it initialized."""
    config = props.get("ProvisionedConcurrencyConfig") or {}
    provisioned = int(config.get("ProvisionedConcurrentExecutions") or 0)
    if not provisioned and alias_arn not in PROVISIONED_CONCURRENCY:
        return
    if provisioned:
        PROVISIONED_CONCURRENCY[alias_arn] = provisioned
    else:
        PROVISIONED_CONCURRENCY.pop(alias_arn, None)
    parts = alias_arn.split(":")
    for provision in ON_PROVISIONED_CONCURRENCY:
        provision(parts[6], parts[7])


def _delete_lambda_alias(physical_id: str) -> None:
    # arn:aws:lambda:region:account:function:NAME:ALIAS
    parts = physical_id.split(":")
    with contextlib.suppress(Exception):  # gone with its function already
        client("lambda").delete_alias(FunctionName=parts[6], Name=parts[7])


@resource_type("AWS::Lambda::Alias", update=_update_lambda_alias, delete=_delete_lambda_alias)
def _lambda_alias(request: CreateRequest) -> Created:
    props = request.properties
    args: dict[str, Any] = {
        "FunctionName": props["FunctionName"],
        "Name": props["Name"],
        "FunctionVersion": str(props["FunctionVersion"]),
    }
    if props.get("Description"):
        args["Description"] = props["Description"]
    if props.get("RoutingConfig"):
        args["RoutingConfig"] = props["RoutingConfig"]
    alias = client("lambda").create_alias(**args)
    _provisioned_concurrency(alias["AliasArn"], props)
    return Created(alias["AliasArn"], {"AliasArn": alias["AliasArn"]})


@resource_type("AWS::Lambda::EventInvokeConfig")
def _event_invoke_config(request: CreateRequest) -> Created:
    props = request.properties
    args: dict[str, Any] = {"FunctionName": props["FunctionName"], "Qualifier": props["Qualifier"]}
    for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig"):
        if key in props:
            args[key] = int(props[key]) if key != "DestinationConfig" else props[key]
    client("lambda").put_function_event_invoke_config(**args)
    return Created(f"{props['FunctionName']}:{props['Qualifier']}")


# ---- CodeDeploy (the deployments themselves: codedeploy.py, started by stack_updates.py) ---------
def _camel(value: Any) -> Any:
    """CloudFormation's PascalCase keys as the CodeDeploy API's camelCase ones."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _as_int_fields(routing: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {k: int(v) for k, v in value.items()} if isinstance(value, dict) else value
        for key, value in routing.items()
    }


def _delete_codedeploy_application(name: str) -> None:
    from local_cloud.codedeploy_api import backend

    backend().applications.pop(name, None)
    backend().deployment_groups.pop(name, None)


@resource_type(
    "AWS::CodeDeploy::Application",
    delete=_delete_codedeploy_application,
    caveat="Lambda deployments run locally: hooks, traffic shifting, alarm rollback (codedeploy.py)",
)
def _codedeploy_application(request: CreateRequest) -> Created:
    name = request.name("ApplicationName", 100)
    client("codedeploy").create_application(
        applicationName=name, computePlatform=str(request.properties.get("ComputePlatform", "Server"))
    )
    return Created(name)


def _delete_deployment_config(name: str) -> None:
    with contextlib.suppress(Exception):
        client("codedeploy").delete_deployment_config(deploymentConfigName=name)


@resource_type("AWS::CodeDeploy::DeploymentConfig", delete=_delete_deployment_config)
def _codedeploy_deployment_config(request: CreateRequest) -> Created:
    props = request.properties
    name = request.name("DeploymentConfigName", 100)
    args: dict[str, Any] = {
        "deploymentConfigName": name,
        "computePlatform": str(props.get("ComputePlatform", "Server")),
    }
    if props.get("TrafficRoutingConfig"):
        args["trafficRoutingConfig"] = _as_int_fields(_camel(props["TrafficRoutingConfig"]))
    client("codedeploy").create_deployment_config(**args)
    return Created(name)


@resource_type("AWS::CodeDeploy::DeploymentGroup")
def _codedeploy_deployment_group(request: CreateRequest) -> Created:
    props = request.properties
    name = request.name("DeploymentGroupName", 100)
    args: dict[str, Any] = {
        "applicationName": props["ApplicationName"],
        "deploymentGroupName": name,
        "serviceRoleArn": props["ServiceRoleArn"],
    }
    if props.get("DeploymentConfigName"):
        args["deploymentConfigName"] = props["DeploymentConfigName"]
    alarms = props.get("AlarmConfiguration")
    if alarms:
        args["alarmConfiguration"] = {
            "enabled": _as_bool(alarms.get("Enabled", False)),
            "ignorePollAlarmFailure": _as_bool(alarms.get("IgnorePollAlarmFailure", False)),
            "alarms": [{"name": str(alarm["Name"])} for alarm in alarms.get("Alarms", [])],
        }
    rollback = props.get("AutoRollbackConfiguration")
    if rollback:
        args["autoRollbackConfiguration"] = {
            "enabled": _as_bool(rollback.get("Enabled", False)),
            "events": list(rollback.get("Events", [])),
        }
    if props.get("DeploymentStyle"):
        args["deploymentStyle"] = _camel(props["DeploymentStyle"])
    client("codedeploy").create_deployment_group(**args)
    return Created(name)


# ---- data services -----------------------------------------------------------------------------
@resource_type("AWS::DynamoDB::GlobalTable", caveat="one replica (this region); the others are not created")
def _global_table(request: CreateRequest) -> Created:
    props = request.properties
    args: dict[str, Any] = {
        "TableName": request.name("TableName", 255),
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
    }
    if props.get("BillingMode", "PROVISIONED") == "PAY_PER_REQUEST":
        args["BillingMode"] = "PAY_PER_REQUEST"
    else:
        capacity = props.get("WriteProvisionedThroughputSettings", {})
        writes = int(capacity.get("WriteCapacityAutoScalingSettings", {}).get("MinCapacity", 5))
        args["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": writes}
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index["IndexName"],
                "KeySchema": index["KeySchema"],
                "Projection": index["Projection"],
                **(
                    {}
                    if "BillingMode" in args
                    else {"ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}
                ),
            }
            for index in props["GlobalSecondaryIndexes"]
        ]
    if props.get("LocalSecondaryIndexes"):
        args["LocalSecondaryIndexes"] = props["LocalSecondaryIndexes"]
    if props.get("StreamSpecification"):
        args["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": props["StreamSpecification"]["StreamViewType"],
        }
    dynamodb = client("dynamodb")
    table = dynamodb.create_table(**args)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=args["TableName"],
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    attributes = {"Arn": table["TableArn"], "TableId": table.get("TableId", table["TableArn"])}
    if table.get("LatestStreamArn"):
        attributes["StreamArn"] = table["LatestStreamArn"]
    return Created(args["TableName"], attributes)


@resource_type("AWS::SecretsManager::Secret")
def _secret(request: CreateRequest) -> Created:
    props = request.properties
    args: dict[str, Any] = {"Name": request.name("Name", 256)}
    if props.get("Description"):
        args["Description"] = props["Description"]
    if "SecretString" in props:
        args["SecretString"] = props["SecretString"]
    else:
        generate = props.get("GenerateSecretString") or {}
        length = int(generate.get("PasswordLength", 32))
        excluded = set(generate.get("ExcludeCharacters", ""))
        alphabet = [
            c for c in string.ascii_letters + string.digits + "!#$%&*+-.:;<=>?@^_~" if c not in excluded
        ]
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        template = generate.get("SecretStringTemplate")
        if template and generate.get("GenerateStringKey"):
            document = json.loads(template)
            document[generate["GenerateStringKey"]] = password
            args["SecretString"] = json.dumps(document)
        else:
            args["SecretString"] = password
    arn = client("secretsmanager").create_secret(**args)["ARN"]
    return Created(arn, {"Id": arn})


@resource_type("AWS::SQS::QueuePolicy", caveat="stored on the queue; moto does not enforce queue policies")
def _queue_policy(request: CreateRequest) -> Created:
    sqs = client("sqs")
    for queue_url in request.properties.get("Queues", []):
        sqs.set_queue_attributes(
            QueueUrl=queue_url, Attributes={"Policy": json.dumps(request.properties["PolicyDocument"])}
        )
    return Created(request.generated_name)


@resource_type(
    "AWS::SNS::TopicPolicy",
    caveat="accepted, not stored: moto's SNS neither enforces topic policies nor verifies the signature of a "
    "policy document sent to SetTopicAttributes",
)
def _topic_policy(request: CreateRequest) -> Created:
    return Created(request.generated_name)


@resource_type(
    "AWS::S3::BucketPolicy",
    caveat="stored without its conditional statements (moto would enforce them unconditionally, e.g. "
    "deny every request for aws:SecureTransport=false); the rest is enforced for Principal '*' only",
)
def _bucket_policy(request: CreateRequest) -> Created:
    bucket = request.properties["Bucket"]
    document = dict(request.properties["PolicyDocument"])
    statements = document.get("Statement", [])
    document["Statement"] = [
        s for s in (statements if isinstance(statements, list) else [statements]) if not s.get("Condition")
    ]
    if document["Statement"]:
        client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))
    return Created(bucket)


def _delete_alarm(name: str) -> None:
    client("cloudwatch").delete_alarms(AlarmNames=[name])


@resource_type(
    "AWS::CloudWatch::Alarm",
    delete=_delete_alarm,
    caveat="stored in the local CloudWatch, created in INSUFFICIENT_DATA as on AWS; no service publishes "
    "metrics locally and alarms are not evaluated, so they stay in the state the API shows",
)
def _alarm(request: CreateRequest) -> Created:
    props = request.properties
    name = request.name("AlarmName", 255)
    args: dict[str, Any] = {
        "AlarmName": name,
        "ComparisonOperator": props["ComparisonOperator"],
        "EvaluationPeriods": int(props["EvaluationPeriods"]),
    }
    for key in ("AlarmDescription", "TreatMissingData", "Unit", "ExtendedStatistic", "Statistic"):
        if key in props:
            args[key] = props[key]
    for key in ("Threshold",):
        if key in props:
            args[key] = float(props[key])
    for key in ("Period", "DatapointsToAlarm"):
        if key in props:
            args[key] = int(props[key])
    for key in ("MetricName", "Namespace"):
        if key in props:
            args[key] = props[key]
    if "Dimensions" in props:
        args["Dimensions"] = [{"Name": d["Name"], "Value": str(d["Value"])} for d in props["Dimensions"]]
    if "Metrics" in props:
        args["Metrics"] = props["Metrics"]
    for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        if key in props:
            args[key] = props[key]
    cloudwatch = client("cloudwatch")
    cloudwatch.put_metric_alarm(**args)
    # A new alarm has no data yet: AWS starts it in INSUFFICIENT_DATA (moto would say OK).
    cloudwatch.set_alarm_state(
        AlarmName=name, StateValue="INSUFFICIENT_DATA", StateReason="Unchecked: Initial alarm creation"
    )
    arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:{name}"
    return Created(name, {"Arn": arn})


@resource_type("AWS::Scheduler::Schedule", caveat="fired by the local scheduler (and `make local-run-job`)")
def _schedule(request: CreateRequest) -> Created:
    props = request.properties
    name = request.name("Name", 64)
    args: dict[str, Any] = {
        "Name": name,
        "ScheduleExpression": props["ScheduleExpression"],
        "FlexibleTimeWindow": props["FlexibleTimeWindow"],
        "Target": props["Target"],
    }
    for key in ("Description", "ScheduleExpressionTimezone", "State", "GroupName", "StartDate", "EndDate"):
        if key in props:
            args[key] = props[key]
    arn = client("scheduler").create_schedule(**args)["ScheduleArn"]
    return Created(name, {"Arn": arn})


# ---- API Gateway -------------------------------------------------------------------------------
def _present(properties: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The CloudFormation properties in ``names`` that are set, renamed to their API argument names."""
    return {argument: properties[key] for key, argument in names.items() if key in properties}


@resource_type("AWS::ApiGateway::Method")
def _method(request: CreateRequest) -> Created:
    # moto keeps only the type and URI of the integration; the local API front needs all of it.
    props = request.properties
    api, resource, verb = props["RestApiId"], props["ResourceId"], props["HttpMethod"]
    apigateway = client("apigateway")
    args: dict[str, Any] = {
        "restApiId": api,
        "resourceId": resource,
        "httpMethod": verb,
        "authorizationType": props.get("AuthorizationType", "NONE"),
        "apiKeyRequired": bool(props.get("ApiKeyRequired", False)),
    }
    optional = {
        "AuthorizerId": "authorizerId",
        "AuthorizationScopes": "authorizationScopes",
        "RequestValidatorId": "requestValidatorId",
        "RequestModels": "requestModels",
        "RequestParameters": "requestParameters",
        "OperationName": "operationName",
    }
    args.update(_present(props, optional))
    if "requestParameters" in args:
        args["requestParameters"] = {k: _as_bool(v) for k, v in args["requestParameters"].items()}
    apigateway.put_method(**args)
    for response in props.get("MethodResponses", []):
        apigateway.put_method_response(
            restApiId=api,
            resourceId=resource,
            httpMethod=verb,
            statusCode=str(response["StatusCode"]),
            responseParameters={k: _as_bool(v) for k, v in response.get("ResponseParameters", {}).items()},
            responseModels=response.get("ResponseModels", {}),
        )
    integration = props.get("Integration")
    if integration:
        integration_args: dict[str, Any] = {
            "restApiId": api,
            "resourceId": resource,
            "httpMethod": verb,
            "type": integration["Type"],
        }
        optional_integration = {
            "IntegrationHttpMethod": "integrationHttpMethod",
            "Uri": "uri",
            "Credentials": "credentials",
            "RequestTemplates": "requestTemplates",
            "RequestParameters": "requestParameters",
            "PassthroughBehavior": "passthroughBehavior",
            "TimeoutInMillis": "timeoutInMillis",
            "ContentHandling": "contentHandling",
        }
        integration_args.update(_present(integration, optional_integration))
        apigateway.put_integration(**integration_args)
        for response in integration.get("IntegrationResponses", []):
            apigateway.put_integration_response(
                restApiId=api,
                resourceId=resource,
                httpMethod=verb,
                statusCode=str(response["StatusCode"]),
                selectionPattern=response.get("SelectionPattern", ""),
                responseParameters=response.get("ResponseParameters", {}),
                responseTemplates=response.get("ResponseTemplates", {}),
            )
    return Created(f"{api}-{resource}-{verb}")


def _as_bool(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


@resource_type("AWS::ApiGateway::Deployment")
def _deployment(request: CreateRequest) -> Created:
    props = request.properties
    args: dict[str, Any] = {"restApiId": props["RestApiId"]}
    if props.get("Description"):
        args["description"] = props["Description"]
    if props.get("StageName"):
        args["stageName"] = props["StageName"]
    deployment = client("apigateway").create_deployment(**args)
    return Created(deployment["id"], {"DeploymentId": deployment["id"]})


@resource_type(
    "AWS::ApiGateway::Stage",
    caveat="served by the local API front; throttling, access logs to CloudWatch and caching are not applied",
)
def _stage(request: CreateRequest) -> Created:
    props = request.properties
    args: dict[str, Any] = {
        "restApiId": props["RestApiId"],
        "stageName": props["StageName"],
        "deploymentId": props["DeploymentId"],
    }
    if props.get("Variables"):
        args["variables"] = props["Variables"]
    if props.get("Description"):
        args["description"] = props["Description"]
    client("apigateway").create_stage(**args)
    return Created(props["StageName"])


@resource_type("AWS::ApiGateway::Model")
def _model(request: CreateRequest) -> Created:
    props = request.properties
    name = request.name("Name", 60)
    name = "".join(c for c in name if c.isalnum())
    schema = props.get("Schema", {})
    client("apigateway").create_model(
        restApiId=props["RestApiId"],
        name=name,
        contentType=props.get("ContentType", "application/json"),
        description=props.get("Description", ""),
        schema=schema if isinstance(schema, str) else json.dumps(schema),
    )
    return Created(name)


@resource_type("AWS::ApiGateway::RequestValidator")
def _request_validator(request: CreateRequest) -> Created:
    props = request.properties
    validator = client("apigateway").create_request_validator(
        restApiId=props["RestApiId"],
        name=request.name("Name", 60),
        validateRequestBody=_as_bool(props.get("ValidateRequestBody", False)),
        validateRequestParameters=_as_bool(props.get("ValidateRequestParameters", False)),
    )
    return Created(validator["id"], {"RequestValidatorId": validator["id"]})


@resource_type("AWS::ApiGateway::GatewayResponse")
def _gateway_response(request: CreateRequest) -> Created:
    props = request.properties
    args: dict[str, Any] = {"restApiId": props["RestApiId"], "responseType": props["ResponseType"]}
    if "StatusCode" in props:
        args["statusCode"] = str(props["StatusCode"])
    if props.get("ResponseParameters"):
        args["responseParameters"] = props["ResponseParameters"]
    if props.get("ResponseTemplates"):
        args["responseTemplates"] = props["ResponseTemplates"]
    client("apigateway").put_gateway_response(**args)
    return Created(f"{props['RestApiId']}-{props['ResponseType']}")


@resource_type("AWS::ApiGateway::Authorizer")
def _authorizer(request: CreateRequest) -> Created:
    props = request.properties
    args: dict[str, Any] = {
        "restApiId": props["RestApiId"],
        "name": request.name("Name", 128),
        "type": props["Type"],
    }
    optional = {
        "ProviderARNs": "providerARNs",
        "IdentitySource": "identitySource",
        "AuthorizerUri": "authorizerUri",
        "AuthorizerResultTtlInSeconds": "authorizerResultTtlInSeconds",
        "IdentityValidationExpression": "identityValidationExpression",
    }
    args.update(_present(props, optional))
    authorizer = client("apigateway").create_authorizer(**args)
    return Created(authorizer["id"], {"AuthorizerId": authorizer["id"]})


# ---- Cognito -----------------------------------------------------------------------------------
@resource_type("AWS::Cognito::UserPool", caveat="sign-in through the local hosted-UI stand-in")
def _user_pool(request: CreateRequest) -> Created:
    props = request.properties
    args: dict[str, Any] = {"PoolName": request.name("UserPoolName", 128)}
    for key in (
        "Policies",
        "AutoVerifiedAttributes",
        "UsernameAttributes",
        "AliasAttributes",
        "Schema",
        "AdminCreateUserConfig",
        "AccountRecoverySetting",
        "MfaConfiguration",
        "UsernameConfiguration",
    ):
        if key in props:
            args[key] = props[key]
    pool = client("cognito-idp").create_user_pool(**args)["UserPool"]
    provider_name = f"cognito-idp.{REGION}.amazonaws.com/{pool['Id']}"
    return Created(
        pool["Id"],
        {
            "Arn": pool["Arn"],
            "ProviderName": provider_name,
            "ProviderURL": f"https://{provider_name}",
            "UserPoolId": pool["Id"],
        },
    )


@resource_type("AWS::Cognito::UserPoolClient")
def _user_pool_client(request: CreateRequest) -> Created:
    props = request.properties
    args: dict[str, Any] = {"UserPoolId": props["UserPoolId"], "ClientName": request.name("ClientName", 128)}
    for key in (
        "GenerateSecret",
        "ExplicitAuthFlows",
        "AllowedOAuthFlows",
        "AllowedOAuthScopes",
        "AllowedOAuthFlowsUserPoolClient",
        "CallbackURLs",
        "LogoutURLs",
        "SupportedIdentityProviders",
        "PreventUserExistenceErrors",
        "EnableTokenRevocation",
        "ReadAttributes",
        "WriteAttributes",
    ):
        if key in props:
            args[key] = props[key]
    for key in ("AccessTokenValidity", "IdTokenValidity", "RefreshTokenValidity"):
        if key in props:
            args[key] = int(props[key])
    if "TokenValidityUnits" in props:
        args["TokenValidityUnits"] = props["TokenValidityUnits"]
    created = client("cognito-idp").create_user_pool_client(**args)["UserPoolClient"]
    return Created(
        created["ClientId"], {"ClientSecret": created.get("ClientSecret", ""), "Name": args["ClientName"]}
    )


@resource_type("AWS::Cognito::UserPoolDomain", caveat="the hosted UI is the local sign-in page")
def _user_pool_domain(request: CreateRequest) -> Created:
    props = request.properties
    client("cognito-idp").create_user_pool_domain(Domain=props["Domain"], UserPoolId=props["UserPoolId"])
    return Created(props["Domain"], {"CloudFrontDistribution": f"{props['Domain']}.local"})


# ---- not emulated ------------------------------------------------------------------------------
for _type, _stand_in in {
    "AWS::ApplicationAutoScaling::ScalableTarget": "one worker process per function (no autoscaling)",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "one worker process per function (no autoscaling)",
    "AWS::ApiGateway::Account": "API logs are printed by the local API front",
    "AWS::ApiGateway::UsagePlan": "none: no throttling or quotas locally",
    "AWS::ApiGateway::UsagePlanKey": "none: no throttling or quotas locally",
    "AWS::CloudFront::Distribution": "a local static server per site on its own port reads the site bucket; "
    "config.json is served with the local endpoints in place of the AWS ones",
    "AWS::CloudFront::OriginAccessControl": "the local front reads the site itself",
    "AWS::CloudFront::ResponseHeadersPolicy": "the local front sets no security headers",
    "AWS::CloudFront::Function": "none",
    "AWS::WAFv2::WebACL": "none: no web ACL locally",
    "AWS::WAFv2::WebACLAssociation": "none: no web ACL locally",
    "AWS::WAFv2::LoggingConfiguration": "none: no web ACL locally",
    "AWS::Backup::BackupVault": "none: no AWS Backup locally (moto holds data in memory only)",
    "AWS::Backup::BackupPlan": "none: no AWS Backup locally (moto holds data in memory only)",
    "AWS::Backup::BackupSelection": "none: no AWS Backup locally (moto holds data in memory only)",
    "AWS::Logs::QueryDefinition": "none: moto has no saved queries; the local runtime prints function logs",
    "AWS::Pipes::Pipe": "run by the local triggers (local_cloud/pipes.py): stream, filter, template, bus",
}.items():
    not_emulated(_type, _stand_in)
