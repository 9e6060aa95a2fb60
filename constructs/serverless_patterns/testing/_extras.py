"""Lazy imports of the testing extra's packages, with an error that says how to get them."""

from __future__ import annotations

import importlib
from types import ModuleType

#: Import name -> the distribution that provides it (all in ``serverless-patterns[testing]``).
_DISTRIBUTIONS = {"cdk_nag": "cdk-nag", "cfnlint": "cfn-lint", "moto": "moto"}


def optional_import(module: str, *, needed_by: str) -> ModuleType:
    """Import ``module`` from the ``testing`` extra, or explain which extra to install.

    Args:
        module: the module to import, e.g. ``cfnlint.api`` or ``moto.core.authorization``.
        needed_by: the kit function that needs it, named in the error.

    Returns:
        The imported module.

    Raises:
        ImportError: the package is not installed; the message names the package and
            ``pip install 'serverless-patterns[testing]'``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        top = module.split(".", 1)[0]
        distribution = _DISTRIBUTIONS.get(top, top)
        raise ImportError(
            f"serverless_patterns.testing.{needed_by} needs {distribution}, which is not installed: "
            "pip install 'serverless-patterns[testing]'"
        ) from error
