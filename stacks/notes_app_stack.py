"""The notes reference app: a signed-in user keeps private notes (WebApp: site, Cognito, API)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sns as sns
from serverless_patterns import FunctionOptions, Route, TableAccess, TableOptions, Waf, WebApp

from constructs import Construct
from stacks.dashboard import add_dashboard
from stacks.stage_config import StageConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_SRC = REPO_ROOT / "lambda_src"
SITE = REPO_ROOT / "site" / "notes"
#: Files of site/notes that are for its tests only.
SITE_TEST_FILES = ["package.json", "test/*", "testing/*"]

#: Mirrors lambda_src/notes_api/notes_store.py; API Gateway rejects other bodies before the function runs.
NOTE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["title"],
    "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "body": {"type": "string", "maxLength": 10000},
    },
}
NOTE_ROUTES = (
    Route("GET", "/notes"),
    Route("POST", "/notes", body_schema=NOTE_SCHEMA),
    Route("GET", "/notes/{id}"),
    Route("PUT", "/notes/{id}", body_schema=NOTE_SCHEMA),
    Route("DELETE", "/notes/{id}"),
)


class NotesAppStack(Stack):
    """Notes: list, create, edit and delete your own notes; nobody else's are reachable."""

    def __init__(
        self, scope: Construct, id: str, *, config: StageConfig, alarm_topic: sns.ITopic, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.key = config.key(self, "notes app")
        self.web_app = WebApp(
            self,
            "Notes",
            site_path=SITE,
            site_exclude=SITE_TEST_FILES,
            code_path=LAMBDA_SRC / "notes_api",
            routes=NOTE_ROUTES,
            table_options=TableOptions(
                partition_key=dynamodb.Attribute(name="owner", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name="noteId", type=dynamodb.AttributeType.STRING),
            ),
            table_access=TableAccess.of(
                "dynamodb:Query",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            ),
            function=FunctionOptions(
                log_retention=config.log_retention,
                provisioned_concurrency=config.provisioned_concurrency,
                reserved_concurrency=20 if config.provisioned_concurrency else None,
                deployment=config.deployment(),
            ),
            mfa=cognito.Mfa.REQUIRED if config.is_production else cognito.Mfa.OPTIONAL,
            # Notes is a public sign-up app: anyone with an e-mail address may create an account and then
            # call the API for their own notes. Abuse is bounded by the stage throttle (and, in prod, the
            # per-IP rate rule of the API's web ACL) and Cognito threat protection.
            self_sign_up=True,
            removal_policy=config.removal_policy,
            alarm_topic=alarm_topic,
            encryption_key=self.key,
            waf=self.distribution_waf(config),
            api_waf=config.waf(),
            backup=config.hardened,
        )
        self.dashboard = add_dashboard(self, patterns=[self.web_app])

    def distribution_waf(self, config: StageConfig) -> Waf | None:
        """The distribution's web ACL when the stage is hardened.

        A CloudFront ACL must live in us-east-1. Prod is pinned there (stage_config), so the stack builds
        the ACL itself. A prod stage moved elsewhere (``-c prod_region=...``) must pass an ACL created in
        us-east-1 (``-c notes_web_acl_arn=arn:aws:wafv2:us-east-1:...:global/webacl/...``), e.g. by a small
        us-east-1 stack of your own; without one, WebApp stops the synth with a ValueError that says so.
        """
        if not config.hardened:
            return None
        existing = self.node.try_get_context("notes_web_acl_arn")
        return Waf.existing(str(existing)) if existing else config.waf()
