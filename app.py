#!/usr/bin/env python3
"""The CDK app: every reference stack for one stage (``-c stage=dev|prod``), checked by cdk-nag."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks

from stacks.reference_app import add_reference_stacks


def build_app(**app_options: Any) -> App:
    """The App with every reference stack for its ``stage`` context (default dev) and cdk-nag on all of it.

    Any unacknowledged AwsSolutions, Serverless or NIST 800-53 R5 finding makes ``app.synth()`` fail (after
    the templates are written), so ``cdk synth`` and ``cdk deploy`` stop before CloudFormation.
    """
    app = App(**app_options)
    add_reference_stacks(app, str(app.node.try_get_context("stage") or "dev"))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app), NIST80053R5Checks(app))
    return app


if __name__ == "__main__":
    build_app().synth()
