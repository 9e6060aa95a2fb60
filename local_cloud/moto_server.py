"""The data services: moto in server mode on 127.0.0.1, with IAM enforced for every caller.

The server runs in a thread of the local cloud's own process, so the CloudFormation extensions
(``moto_cfn_extensions``) and the triggers see the same in-memory backends. Once ``start`` has
created the local administrator (an IAM user allowed everything, like a fresh account's admin),
moto checks every request's signature and its IAM actions: the administrator's for the deployer
and the CLI, each function's own role's for the Lambda workers.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import boto3
import botocore.config
from botocore.awsrequest import AWSRequest
from moto import settings as moto_settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam.access_control import IAMPolicyStatement, IAMRequestBase
from moto.iam.models import iam_backends
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from serverless_patterns.testing.moto_patches import single_table_snapshot

from local_cloud.settings import ACCOUNT_ID, LOOPBACK, REGION

ADMIN_USER = "local-admin"


def _signed_request(self: IAMRequestBase) -> AWSRequest:
    """The request as the client signed it, to check its signature against.

    moto 5.2.5 rebuilds it from ``body or data``: when the server already consumed the body (query
    protocol: CloudFormation, IAM, STS) or there is none (REST GETs: Lambda, API Gateway, Scheduler),
    it signs the parsed parameters or the headers instead, so every such signature "does not match".
    Rebuild the form body the client sent (in its order, with its encoding), or an empty one.
    """
    request = _original_signed_request(self)
    if not self._body:
        data = self._data
        if isinstance(data, dict) and "Action" in data:
            pairs = [
                (k, v)
                for k, values in data.items()
                for v in (values if isinstance(values, list) else [values])
            ]
            # Clients encode a space as "%20" (the JavaScript SDK: the CDK CLI) or "+" (botocore):
            # check_signature tries both.
            plus = getattr(self, "_space_as_plus", False)
            request.data = (
                urlencode(pairs, safe="-_.~") if plus else urlencode(pairs, quote_via=quote, safe="-_.~")
            ).encode()
        else:
            request.data = b""
    return request


def _check_signature(self: IAMRequestBase) -> None:
    try:
        _original_check_signature(self)
    except Exception:
        self._space_as_plus = True  # type: ignore[attr-defined]
        try:
            _original_check_signature(self)
        finally:
            self._space_as_plus = False  # type: ignore[attr-defined]


_original_signed_request = IAMRequestBase._create_aws_request
IAMRequestBase._create_aws_request = _signed_request  # type: ignore[method-assign]
_original_check_signature = IAMRequestBase.check_signature
IAMRequestBase.check_signature = _check_signature  # type: ignore[method-assign]


def _element_matches(self: IAMPolicyStatement, statement_element: Any, value: str) -> bool:
    """moto checks service requests against the resource "*" (it does not know a request's resource),
    which no statement scoped to an ARN matches, so a role's real grants would all be denied. Match
    actions only for those requests, as the handler tests do; resource scoping is checked statically on
    the templates (tests/compliance). Roles here carry no Deny statements, which this would widen."""
    if statement_element == "Resource" and value == "*":
        return True
    return bool(_original_element_matches(self, statement_element, value))


_original_element_matches = IAMPolicyStatement._check_element_matches
IAMPolicyStatement._check_element_matches = _element_matches  # type: ignore[method-assign]

#: Operations moto checks under an IAM action that does not exist in AWS, and the actions AWS checks.
#: (A transaction is authorized by the actions of the writes in it; an Invoke is lambda:InvokeFunction.)
_ACTIONS_AWS_CHECKS = {
    "dynamodb:TransactWriteItems": [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
    ],
    "dynamodb:TransactGetItems": ["dynamodb:GetItem"],
    "lambda:Invoke": ["lambda:InvokeFunction"],
}


def _check_action_permitted(self: IAMRequestBase, resource: str) -> None:
    alternatives = _ACTIONS_AWS_CHECKS.get(self._action)
    if not alternatives:
        _original_check_action_permitted(self, resource)
        return
    original, last_error = self._action, None
    try:
        for action in alternatives:
            self._action = action
            try:
                _original_check_action_permitted(self, resource)
                return
            except Exception as error:  # denied for this one; try the next
                last_error = error
    finally:
        self._action = original
    assert last_error is not None
    raise last_error


_original_check_action_permitted = IAMRequestBase.check_action_permitted
IAMRequestBase.check_action_permitted = _check_action_permitted  # type: ignore[method-assign]


class MotoServer:
    """moto on ``127.0.0.1:port`` (``0``: a free port); ``endpoint_url`` says ``localhost`` for S3's sake."""

    def __init__(self, port: int) -> None:
        self._server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
        self.port = port
        self.admin_credentials: dict[str, str] = {}
        self._patches = contextlib.ExitStack()

    @property
    def endpoint_url(self) -> str:
        # moto's S3 reads the first label of "127.0.0.1" as a bucket name; "localhost" it does not.
        return f"http://localhost:{self.port}"

    def start(self, *, enforce_iam: bool = True, keep_keys_in: Path | None = None) -> None:
        """Start serving, create the administrator, then (by default) enforce IAM for every request.

        ``keep_keys_in``: a JSON file holding the administrator's keys; read if it exists (the same keys
        as last time, so a restart does not change what scripts and shells exported), written otherwise.
        """
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
        # moto deep-copies a table once per item of every TransactWriteItems (for its rollback): the
        # clickstream's transactions on a table of n items cost 100 x n copies. One copy per call, the
        # same outcome (serverless_patterns.testing.moto_patches).
        self._patches.enter_context(single_table_snapshot())
        self._server.start()
        self.port = int(self._server.get_host_and_port()[1])
        iam = self.client("iam", credentials={"AWS_ACCESS_KEY_ID": "bootstrap", "AWS_SECRET_ACCESS_KEY": "x"})
        iam.create_user(UserName=ADMIN_USER)
        iam.put_user_policy(
            UserName=ADMIN_USER,
            PolicyName="administrator",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            ),
        )
        key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
        self.admin_credentials = {
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        }
        if keep_keys_in is not None:
            self._keep_keys(keep_keys_in)
        if enforce_iam:
            ActionAuthenticatorMixin.request_count = 0
            moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0

    def _keep_keys(self, path: Path) -> None:
        try:
            kept = json.loads(path.read_text())
        except (OSError, ValueError):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(self.admin_credentials))
            path.chmod(0o600)
            return
        # moto makes keys at random: give the administrator's new key the kept ID and secret.
        user = iam_backends[ACCOUNT_ID]["aws"].users[ADMIN_USER]
        user.access_keys[0].access_key_id = kept["AWS_ACCESS_KEY_ID"]
        user.access_keys[0].secret_access_key = kept["AWS_SECRET_ACCESS_KEY"]
        self.admin_credentials = {key: kept[key] for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.stop()
        server = getattr(self._server, "_server", None)
        if server is not None:
            server.server_close()
        self._patches.close()
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")

    def client(self, service: str, credentials: dict[str, str] | None = None) -> Any:
        """A boto3 client for this server (the administrator's credentials unless others are given)."""
        creds = credentials or self.admin_credentials
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=creds.get("AWS_SESSION_TOKEN"),
            config=botocore.config.Config(retries={"max_attempts": 2, "mode": "standard"}),
        )
