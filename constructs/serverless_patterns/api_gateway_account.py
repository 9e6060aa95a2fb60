"""``ApiGatewayCloudWatchRole``: the account setting API Gateway needs before any REST API can log.

API Gateway writes execution and access logs with one role per account and region (the
``AWS::ApiGateway::Account`` setting). Until it is set, deploying a stage with logging fails. CDK's
``RestApi(cloud_watch_role=True)`` attaches the AWS managed policy AmazonAPIGatewayPushToCloudWatchLogs
to a role of each API; this construct instead sets the account once, with an inline policy limited
to this account's and region's CloudWatch Logs.
"""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy
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
    """

    def __init__(self, scope: Construct, id: str) -> None:
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
