"""The notes site's JavaScript tests (``site/notes/test``), run by Node's built-in test runner.

They run inside the suite, so they take their turn on a pytest-xdist worker instead of running on their
own after it. ``node --test site/`` runs them by hand.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_notes_site_scripts_pass_their_node_tests() -> None:
    result = subprocess.run(
        ["node", "--test", "site/"], cwd=REPO, capture_output=True, text=True, check=False, timeout=300
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    passed = re.search(r"^# pass (\d+)$", result.stdout, re.MULTILINE)
    assert passed and int(passed.group(1)) > 0, f"no JavaScript test ran:\n{report}"
