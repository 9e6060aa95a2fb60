"""The environment aws-cdk-lib's Node process must start with in tests: import before ``aws_cdk``.

jsii starts that process on the first ``import aws_cdk`` and it keeps the environment it started with.
aws-cdk-lib's built-in template validation is switched off (``CDK_VALIDATION=false``, as the Makefile
exports it): cfn-lint checks every template in ``tests/compliance`` instead. Values already set win.
"""

from __future__ import annotations

import os

os.environ.setdefault("CDK_VALIDATION", "false")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
