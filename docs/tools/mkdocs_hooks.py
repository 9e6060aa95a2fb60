"""mkdocs hooks (mkdocs.yml ``hooks:``): fail the build when a public name lacks its documentation."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from docs.tools.docstrings import problems


def on_pre_build(config: Any) -> None:
    """Refuse to build a reference with holes in it (mkdocstrings would silently leave them out)."""
    found = problems()
    if found:
        raise PluginError("undocumented public API:\n  " + "\n  ".join(found))
