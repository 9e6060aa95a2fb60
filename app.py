#!/usr/bin/env python3
"""The CDK app: every reference stack for one stage (``-c stage=dev|prod``), checked by cdk-nag."""

from __future__ import annotations

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from stacks.reference_app import add_reference_stacks


def main() -> None:
    app = App()
    add_reference_stacks(app, str(app.node.try_get_context("stage") or "dev"))
    # Any unacknowledged finding makes synth fail (after writing the templates).
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    app.synth()


if __name__ == "__main__":
    main()
