#!/usr/bin/env python3
"""A user's CDK app on the installed serverless-patterns, checked by cdk-nag like any careful user's app.

Any unacknowledged AwsSolutions or Serverless finding fails ``app.synth()``: the library's own grants
must not raise findings the user did not cause.
"""

from __future__ import annotations

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from shop_stacks import DataStack, GovCloudStack, ShopStack

ACCOUNT = "111111111111"


def build_app() -> App:
    """The user's app: data, shop (eu-west-1) and a GovCloud stack, with cdk-nag on all of it."""
    # The user's choice for their own cross-stack reference (Data -> Shop); CDK warns until it is made.
    app = App(context={"@aws-cdk/core:defaultCrossStackReferences": "strong"})
    europe = Environment(account=ACCOUNT, region="eu-west-1")
    data = DataStack(app, "Data", env=europe)
    ShopStack(app, "Shop", data=data, env=europe)
    GovCloudStack(app, "Gov", env=Environment(account=ACCOUNT, region="us-gov-west-1"))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return app


if __name__ == "__main__":
    build_app().synth()
