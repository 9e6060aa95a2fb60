"""The API reference has no holes: every public name and every constructor argument is documented.

mkdocstrings leaves an undocumented name out silently; docs/tools/docstrings.py (run by ``make docs``
through its mkdocs hook) fails instead, and so does this test.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from docs.tools.docstrings import problems


def test_every_public_name_is_documented() -> None:
    assert problems() == []


def test_an_undocumented_name_or_argument_is_reported(tmp_path: Path) -> None:
    package = tmp_path / "serverless_patterns"
    package.mkdir()
    (package / "__init__.py").write_text(
        '"""A package."""\n_EXPORTS = {"Thing": "serverless_patterns.thing"}\n'
    )
    (package / "thing.py").write_text(
        textwrap.dedent(
            '''
            """A module."""
            class Thing:
                def __init__(self, scope: object, id: str, *, size: int, colour: str) -> None:
                    """Make it.

                    Args:
                        size: in MB, 1..10.
                    """

                def grow(self) -> None:
                    pass
            '''
        )
    )
    assert problems(tmp_path) == [
        "serverless_patterns.Thing: no docstring",
        "serverless_patterns.Thing: argument 'colour' is not described",
        "serverless_patterns.Thing: no Raises section (what bad input raises)",
        "serverless_patterns.Thing.grow: no docstring",
    ]
