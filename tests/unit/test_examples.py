"""Every README example is a real file under examples/ that synthesizes cleanly, so the docs cannot rot.

Each example runs as a user's app would: with cdk.json's feature flags and both cdk-nag packs as
validation plugins (any finding fails the synth). Every ```python block of the README must stand,
word for word, in one of these files.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tests.harness.synth import EXAMPLES_DIR, REPO_ROOT, example_apps, synthesize_example

#: Every file under examples/: the apps, and the user's test file (examples/test_*.py) that tests/consumer
#: runs against the installed kit. The README's blocks may come from any of them.
EXAMPLE_FILES = sorted(EXAMPLES_DIR.glob("*.py"))
EXAMPLES = example_apps()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_synthesizes_without_cdk_nag_findings(path: Path) -> None:
    example = synthesize_example(path)  # raises on any unacknowledged finding
    assert example.stacks and Path(example.app.outdir, "validation-report.json").is_file()


def _python_blocks(markdown: str) -> list[str]:
    return [textwrap.dedent(block) for block in re.findall(r"```python\n(.*?)```", markdown, re.DOTALL)]


def _normalized(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def test_every_readme_python_block_is_part_of_an_example() -> None:
    sources = [_normalized(textwrap.dedent(path.read_text())) for path in EXAMPLE_FILES]
    blocks = _python_blocks((REPO_ROOT / "README.md").read_text())
    assert blocks, "the README shows code"
    missing = []
    for block in blocks:
        lines = _normalized(block).splitlines()
        # A block is an excerpt: its lines, dedented together, must appear in order in one example.
        wanted = "\n".join(lines)
        if not any(wanted in _dedent_all(source, lines[0]) for source in sources):
            missing.append(block[:200])
    assert not missing, missing


def _dedent_all(source: str, first_line: str) -> str:
    """``source`` with the indentation of the line matching ``first_line`` removed from every line."""
    for line in source.splitlines():
        if line.strip() == first_line.strip() and line.strip():
            indent = len(line) - len(line.lstrip())
            return "\n".join(
                text[indent:] if text[:indent].strip() == "" else text for text in source.splitlines()
            )
    return ""
