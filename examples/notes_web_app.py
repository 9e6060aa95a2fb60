"""WebApp: CloudFront + a private S3 site, Cognito sign-in, and an API + Lambda + DynamoDB backend."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from serverless_patterns import Route, TableAccess, TableOptions, WebApp

from constructs import Construct

REPO = Path(__file__).resolve().parent.parent


class NotesStack(Stack):
    """Signed-in users keep private notes; the API requires a token of the app's user pool."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.notes = WebApp(
            self,
            "Notes",
            site_path=REPO / "site/notes",
            site_exclude=["package.json", "test/*", "testing/*"],
            code_path=REPO / "lambda_src/notes_api",
            routes=[Route("GET", "/notes"), Route("POST", "/notes"), Route("GET", "/notes/{id}")],
            table_access=TableAccess.of("dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem"),
            table_options=TableOptions(
                partition_key=dynamodb.Attribute(name="owner", type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name="noteId", type=dynamodb.AttributeType.STRING),
            ),
            mfa=cognito.Mfa.REQUIRED,
            # Anyone with an e-mail address may sign up and call the API: a decision, not a default.
            self_sign_up=True,
        )


def add_stacks(app: App) -> None:
    """Add this example's stacks to ``app``."""
    NotesStack(app, "Notes")


if __name__ == "__main__":
    app = App()
    add_stacks(app)
    app.synth()
