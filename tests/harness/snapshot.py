"""Template normalization for snapshots: editing a handler must not churn every snapshot.

Asset hashes (S3 keys, asset paths) and the code-hash suffix of ``AWS::Lambda::Version`` logical
IDs change whenever any Lambda code changes; they are replaced by stable placeholders. Everything
else - every property, every policy - stays, so a real infrastructure change shows in the diff.
"""

from __future__ import annotations

import json
import re
from typing import Any

_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")
_VERSION_ID = re.compile(r"(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}")


def normalize_template(template: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``template`` with asset hashes and version-hash suffixes replaced."""
    text = json.dumps(template, sort_keys=True)
    text = _ASSET_HASH.sub("<asset-hash>", text)
    text = _VERSION_ID.sub(r"\1<code-hash>", text)
    normalized: dict[str, Any] = json.loads(text)
    return normalized
