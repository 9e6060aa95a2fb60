"""Create emulated AWS resources (moto) from a synthesized template's own properties.

Handler tests run against exactly what we deploy: key schemas, GSIs, TTL, streams, queue redrive
and FIFO settings come from the template, not from a copy in the test. ``EmulatedStack`` also
resolves ``Ref`` / ``Fn::GetAtt`` / ``Fn::Join`` / ``Fn::Sub`` in a function's environment
variables to the physical names it created, so the handler sees what Lambda would show it.

Supported: AWS::DynamoDB::Table, AWS::DynamoDB::GlobalTable, AWS::SQS::Queue,
AWS::Kinesis::Stream, AWS::S3::Bucket, AWS::SecretsManager::Secret. Call inside ``mock_aws()``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from serverless_patterns.testing.admin_clients import admin_client

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account


@dataclass
class PhysicalResource:
    """What ``Ref`` and ``Fn::GetAtt`` return for one emulated resource."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


class EmulatedStack:
    """Resources of one template, created in moto, with a resolver for template expressions.

    Create it inside ``mock_aws()``: the supported resources (see the module doc) are created at once.

    Args:
        template: the synthesized template (e.g. ``template_of(stack)``).
        stack_name: what ``AWS::StackName`` resolves to; default names are ``<stack_name>-<logical id>``.
        region: where the resources are created.
    """

    def __init__(
        self, template: dict[str, Any], *, stack_name: str = "TestStack", region: str = REGION
    ) -> None:
        self.template = template
        self.resources: dict[str, dict[str, Any]] = template.get("Resources", {})
        self.stack_name = stack_name
        self.region = region
        self.physical: dict[str, PhysicalResource] = {}
        creators = {
            "AWS::DynamoDB::Table": self._create_table,
            "AWS::DynamoDB::GlobalTable": self._create_table,
            "AWS::SQS::Queue": self._create_queue,
            "AWS::Kinesis::Stream": self._create_stream,
            "AWS::S3::Bucket": self._create_bucket,
            "AWS::SecretsManager::Secret": self._create_secret,
        }
        # Queues first: redrive policies point at other queues.
        order = sorted(self.resources.items(), key=lambda item: item[1]["Type"] != "AWS::SQS::Queue")
        for logical_id, resource in order:
            creator = creators.get(resource["Type"])
            if creator is not None and logical_id not in self.physical:
                creator(logical_id, resource.get("Properties", {}))

    # ---- lookups -------------------------------------------------------------------------
    def ref(self, logical_id: str) -> str:
        """What ``{"Ref": logical_id}`` resolves to.

        Args:
            logical_id: a created resource's logical ID.

        Returns:
            Its physical name (a queue's URL, a secret's ARN).
        """
        return self.physical[logical_id].ref

    def get_att(self, logical_id: str, attribute: str) -> str:
        """What ``{"Fn::GetAtt": [logical_id, attribute]}`` resolves to.

        Args:
            logical_id: a created resource's logical ID.
            attribute: e.g. ``Arn``, ``StreamArn``, ``QueueUrl``.

        Returns:
            The attribute's value.
        """
        return self.physical[logical_id].attributes[attribute]

    def of_type(self, resource_type: str) -> list[str]:
        """Logical IDs of every resource of ``resource_type`` in the template.

        Args:
            resource_type: e.g. ``AWS::SQS::Queue``.

        Returns:
            The logical IDs, in template order.
        """
        return [lid for lid, res in self.resources.items() if res["Type"] == resource_type]

    def resolve(self, value: Any) -> Any:
        """Resolve intrinsic functions in ``value`` against the emulated resources.

        Args:
            value: a template value (``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``,
                ``Fn::Select``, ``Fn::Split``, pseudo parameters; lists and dicts recursively).

        Returns:
            The value with every supported intrinsic replaced by what it resolves to.
        """
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return self._pseudo(value["Ref"]) or self.ref(value["Ref"])
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            return self.get_att(logical_id, attribute)
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(self.resolve(part)) for part in parts)
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._sub(m.group(1))), text)
        if "Fn::Select" in value:
            index, items = value["Fn::Select"]
            return self.resolve(items)[int(index)]
        if "Fn::Split" in value:
            separator, text = value["Fn::Split"]
            return str(self.resolve(text)).split(separator)
        return {key: self.resolve(item) for key, item in value.items()}

    def function_environment(
        self, function_logical_id: str, skip: frozenset[str] = frozenset()
    ) -> dict[str, str]:
        """The resolved environment variables of a function in the template.

        Args:
            function_logical_id: the ``AWS::Lambda::Function``.
            skip: variables to leave out.

        Returns:
            Variable name -> resolved value.
        """
        properties = self.resources[function_logical_id]["Properties"]
        variables = properties.get("Environment", {}).get("Variables", {})
        return {name: str(self.resolve(value)) for name, value in variables.items() if name not in skip}

    def _pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }.get(name)

    def _sub(self, name: str) -> str:
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return self.get_att(logical_id, attribute)
        return self._pseudo(name) or self.ref(name)

    # ---- creators ------------------------------------------------------------------------
    def _name(self, logical_id: str, explicit: Any, limit: int = 80) -> str:
        if explicit is not None:
            return str(self.resolve(explicit))
        return f"{self.stack_name}-{logical_id}"[:limit]

    def _create_table(self, logical_id: str, props: dict[str, Any]) -> None:
        client = admin_client("dynamodb", self.region)
        name = self._name(logical_id, props.get("TableName"))
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
        }
        if props.get("BillingMode", "PAY_PER_REQUEST") == "PAY_PER_REQUEST":
            request["BillingMode"] = "PAY_PER_REQUEST"
        else:
            request["ProvisionedThroughput"] = props.get(
                "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
            )
        if props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = [
                {key: gsi[key] for key in ("IndexName", "KeySchema", "Projection") if key in gsi}
                for gsi in props["GlobalSecondaryIndexes"]
            ]
        if props.get("LocalSecondaryIndexes"):
            request["LocalSecondaryIndexes"] = props["LocalSecondaryIndexes"]
        stream = props.get("StreamSpecification")
        if stream:
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        description = client.create_table(**request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        attributes = {"Arn": description["TableArn"]}
        if "LatestStreamArn" in description:
            attributes["StreamArn"] = description["LatestStreamArn"]
        self.physical[logical_id] = PhysicalResource(ref=name, attributes=attributes)

    def _create_queue(self, logical_id: str, props: dict[str, Any]) -> None:
        client = admin_client("sqs", self.region)
        fifo = bool(props.get("FifoQueue"))
        name = self._name(logical_id, props.get("QueueName"), limit=75)
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes: dict[str, str] = {}
        for key in (
            "DelaySeconds",
            "MaximumMessageSize",
            "MessageRetentionPeriod",
            "ReceiveMessageWaitTimeSeconds",
            "VisibilityTimeout",
        ):
            if key in props:
                attributes[key] = str(props[key])
        if fifo:
            attributes["FifoQueue"] = "true"
            if props.get("ContentBasedDeduplication"):
                attributes["ContentBasedDeduplication"] = "true"
        redrive = props.get("RedrivePolicy")
        if redrive:
            target = redrive["deadLetterTargetArn"]
            target_id = target["Fn::GetAtt"][0] if isinstance(target, dict) else None
            if target_id and target_id not in self.physical:
                self._create_queue(target_id, self.resources[target_id].get("Properties", {}))
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": self.resolve(target),
                    "maxReceiveCount": int(redrive["maxReceiveCount"]),
                }
            )
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.physical[logical_id] = PhysicalResource(
            ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url}
        )

    def _create_stream(self, logical_id: str, props: dict[str, Any]) -> None:
        client = admin_client("kinesis", self.region)
        name = self._name(logical_id, props.get("Name"))
        mode = props.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED")
        if mode == "ON_DEMAND":
            client.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        else:
            client.create_stream(StreamName=name, ShardCount=int(props.get("ShardCount", 1)))
        hours = props.get("RetentionPeriodHours")
        if hours and int(hours) > 24:
            client.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=int(hours))
        arn = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
        self.physical[logical_id] = PhysicalResource(ref=name, attributes={"Arn": arn})

    def _create_bucket(self, logical_id: str, props: dict[str, Any]) -> None:
        client = admin_client("s3", self.region)
        name = self._name(logical_id, props.get("BucketName"), limit=63).lower()
        client.create_bucket(Bucket=name)
        if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        self.physical[logical_id] = PhysicalResource(
            ref=name,
            attributes={
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
            },
        )

    def _create_secret(self, logical_id: str, props: dict[str, Any]) -> None:
        client = admin_client("secretsmanager", self.region)
        name = self._name(logical_id, props.get("Name"))
        secret_string = props.get("SecretString")
        request: dict[str, Any] = {"Name": name}
        request["SecretString"] = str(self.resolve(secret_string)) if secret_string else "placeholder-secret"
        arn = client.create_secret(**request)["ARN"]
        self.physical[logical_id] = PhysicalResource(ref=arn, attributes={"Id": arn})
