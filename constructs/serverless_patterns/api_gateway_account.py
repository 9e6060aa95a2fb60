"""``ApiGatewayCloudWatchRole``: the account setting API Gateway needs before any REST API can log.

API Gateway writes execution and access logs with one role per account and region (the
``AWS::ApiGateway::Account`` setting). Until it is set, deploying a stage with logging fails. CDK's
``RestApi(cloud_watch_role=True)`` attaches the AWS managed policy AmazonAPIGatewayPushToCloudWatchLogs
to a role of each API; this construct instead sets the account once, with an inline policy limited
to this account's and region's CloudWatch Logs.
"""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam

from constructs import Construct
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.core.trust import acknowledge_inline_policy, trusted_service


class ApiGatewayCloudWatchRole(Construct):
    """Sets API Gateway's account-wide CloudWatch Logs role for the stack's account and region.

    Put exactly one in each account and region that runs REST APIs with logging (the reference app
    keeps it in its own small stack that the API stacks depend on). The role and the setting are
    retained when the stack is deleted: other APIs in the account may rely on them.

    Args:
        scope: the parent construct.
        id: the construct id.

    Raises:
        ValueError: the app already sets this account setting for the same account and region (another
            ``ApiGatewayCloudWatchRole``, or ``cloud_watch_role=True`` on another service); both paths are
            named. Stacks without an explicit account or region count as the same account and region.
    """

    def __init__(self, scope: Construct, id: str) -> None:
        _refuse_second_setting(scope, id)
        super().__init__(scope, id)
        log_groups = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
        self.role: iam.Role = iam.Role(
            self,
            "Role",
            assumed_by=trusted_service(self, "apigateway.amazonaws.com"),
            description="API Gateway writes REST API execution and access logs (this account and region)",
            inline_policies={
                "PushToCloudWatchLogs": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=[
                                "logs:CreateLogGroup",
                                "logs:CreateLogStream",
                                "logs:DescribeLogGroups",
                                "logs:DescribeLogStreams",
                                "logs:GetLogEvents",
                                "logs:FilterLogEvents",
                                "logs:PutLogEvents",
                            ],
                            resources=[log_groups, f"{log_groups}:log-stream:*"],
                        )
                    ]
                )
            },
        )
        """The role API Gateway assumes to write logs."""
        self.role.apply_removal_policy(RemovalPolicy.RETAIN)
        acknowledge_inline_policy(self.role)
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*]",
            "API Gateway serves every REST API of the account and region with this one role and creates "
            "each API's execution log group itself (API-Gateway-Execution-Logs_<api>/<stage>), so no "
            "narrower resource than this account's and region's log groups exists.",
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*"
            ":log-stream:*]",
            "Log streams of those log groups, for the same reason.",
        )
        account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=self.role.role_arn)
        account.apply_removal_policy(RemovalPolicy.RETAIN)


def _refuse_second_setting(scope: Construct, id: str) -> None:
    """One ``AWS::ApiGateway::Account`` per account and region: two would overwrite each other's role, and
    deleting either stack would leave the other's setting pointing at whatever the last deploy wrote."""
    stack = Stack.of(scope)
    where = (stack.account, stack.region)
    for existing in scope.node.root.node.find_all():
        if isinstance(existing, ApiGatewayCloudWatchRole):
            other = Stack.of(existing)
            if (other.account, other.region) == where:
                raise ValueError(
                    "API Gateway's CloudWatch Logs role is one setting per account and region, and this app "
                    f"already sets it at {existing.node.path}; got a second one at {scope.node.path}/{id} "
                    "(cloud_watch_role=True or ApiGatewayCloudWatchRole). Set it in one place only: "
                    "cloud_watch_role=True on one service, or one ApiGatewayCloudWatchRole in a shared stack"
                    " that the API stacks depend on."
                )
