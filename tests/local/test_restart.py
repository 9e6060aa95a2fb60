"""What a restart of the local cloud keeps (the state folder): the administrator's keys, the test user's
password. moto keeps its data in memory only, so tables, queues, objects and users are made anew from
the templates at every start (README: "What a restart keeps"); ``make local-reset`` forgets the keys too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from local_cloud.cloud import _kept_password
from local_cloud.settings import REPO_ROOT

START_AND_CALL = """
import json, sys
from pathlib import Path
from local_cloud.moto_server import MotoServer
server = MotoServer(0)
server.start(keep_keys_in=Path(sys.argv[1]))
try:
    users = server.client("iam").list_users()["Users"]  # signed with the (kept) keys, IAM enforced
    print(json.dumps({"keys": server.admin_credentials, "users": [u["UserName"] for u in users]}))
finally:
    server.stop()
"""


def _start(keys: Path) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", START_AND_CALL, str(keys)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    document: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return document


def test_a_restart_keeps_the_admin_keys_and_they_still_sign(tmp_path: Path) -> None:
    keys = tmp_path / "admin-keys.json"
    first = _start(keys)
    assert keys.exists() and json.loads(keys.read_text()) == first["keys"]
    second = _start(keys)
    assert second["keys"] == first["keys"]
    assert second["users"] == ["local-admin"]
    keys.unlink()  # what `make local-reset` does with the state folder
    assert _start(keys)["keys"] != first["keys"]


def test_a_restart_keeps_the_test_users_password(tmp_path: Path) -> None:
    kept = tmp_path / "test-user-password"
    password = _kept_password(kept)
    assert _kept_password(kept) == password
    kept.unlink()
    assert _kept_password(kept) != password
