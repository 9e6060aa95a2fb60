"""``LocalCloud``: synthesize, start the local services, deploy every reference stack, serve, stop.

Everything binds 127.0.0.1. ``start`` takes the instance lock first (a second ``make local`` fails
with a clear message), and ``stop`` ends every thread, socket and worker process it started, in the
reverse order, whatever state ``start`` reached.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import string
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local_cloud import (
    alarms,
    cfn_fixes,
    codedeploy,
    event_bus,  # noqa: F401  (registers the event archive creator, issue 16)
    lambda_api,
    metrics,
    stack_updates,
)
from local_cloud import moto_cfn_extensions as extensions
from local_cloud.api_gateway import ApiGateway, HttpRequest, HttpResponse
from local_cloud.assembly import bootstrap, deploy_stack, read_assembly, synthesize
from local_cloud.clock import CLOCK
from local_cloud.fake_rates_api import FakeRatesApi
from local_cloud.front_door import HttpServer
from local_cloud.hosted_ui import HostedUi
from local_cloud.instance_lock import InstanceLock
from local_cloud.lambda_runtime import LambdaRuntime
from local_cloud.moto_server import MotoServer
from local_cloud.settings import REGION, Ports, default_ports, default_state_dir
from local_cloud.triggers import DeployedStack, Triggers

Log = Callable[[str], None]

#: The local test user created in every user pool (the password meets the pools' policy).
TEST_USER_EMAIL = "local-user@example.com"


@dataclass
class Site:
    """A static site (a CloudFront distribution's stand-in): its bucket and the local server."""

    stack_name: str
    distribution_domain: str
    bucket: str
    server: HttpServer

    @property
    def url(self) -> str:
        """Where the site is served locally."""
        return self.server.url + "/"


@dataclass
class Endpoints:
    """What ``make local`` prints: where everything is served."""

    moto: str = ""
    front_door: str = ""
    apis: dict[str, str] = field(default_factory=dict)
    sites: dict[str, str] = field(default_factory=dict)
    hosted_ui: dict[str, str] = field(default_factory=dict)
    rates_api: str = ""


class LocalCloud:
    """The reference architectures on an embedded local cloud. Use as a context manager or start/stop."""

    def __init__(
        self,
        *,
        state_dir: Path | None = None,
        ports: Ports | None = None,
        stage: str = "dev",
        log: Log | None = None,
        enforce_iam: bool = True,
        app: str | None = None,
        app_dir: Path | None = None,
    ) -> None:
        self.state_dir = (state_dir or default_state_dir()).resolve()
        self.ports = ports or default_ports()
        self.stage = stage
        self.log: Log = log or _print
        self.enforce_iam = enforce_iam
        #: The user's CDK app command (None: this repository's reference app, with its fake rates API).
        self.app = app
        self.app_dir = app_dir
        self.lock = InstanceLock(self.state_dir)
        self.endpoints = Endpoints()
        self.stack_names: list[str] = []
        self.outputs: dict[str, dict[str, str]] = {}
        self.sites: list[Site] = []
        self.test_user_password = _kept_password(self.state_dir / "test-user-password")
        self.timings: dict[str, float] = {}
        self.moto: MotoServer | None = None
        self.rates_api: FakeRatesApi | None = None
        self.runtime: LambdaRuntime | None = None
        self.api_gateway: ApiGateway | None = None
        self.front_door: HttpServer | None = None
        self.triggers: Triggers | None = None
        self.hosted_ui: HostedUi | None = None
        self.codedeploy: codedeploy.Engine | None = None
        self._origin_map: dict[str, str] = {}
        self._stopped = threading.Event()

    # ---- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> LocalCloud:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        """Everything ``make local`` does before "ready"."""
        started = time.monotonic()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.lock.acquire()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        context: dict[str, str] = {}
        if self.app is None:  # the reference app's exchange-rates job calls a provider: a fake one
            self.rates_api = FakeRatesApi(self.state_dir / "tls", self.ports.rates_api)
            self.rates_api.start()
            self.endpoints.rates_api = self.rates_api.url
            context["exchange_rates_api_url"] = self.rates_api.url
        what = f"`{self.app}`" if self.app else f"the reference app (stage {self.stage})"
        self.log(f"synthesizing {what} into {self.state_dir / 'cdk.out'} ...")
        assembly = synthesize(
            self.state_dir / "cdk.out", stage=self.stage, context=context, app=self.app, app_dir=self.app_dir
        )
        self.timings["synth"] = time.monotonic() - started
        self.moto = MotoServer(self.ports.moto)
        self.moto.start(enforce_iam=self.enforce_iam, keep_keys_in=self.state_dir / "admin-keys.json")
        self.endpoints.moto = self.moto.endpoint_url
        self.log(f"local AWS services (moto) on 127.0.0.1:{self.moto.port}; IAM enforced: {self.enforce_iam}")
        extensions.install(self.moto.endpoint_url, self.moto.admin_credentials)
        cfn_fixes.install()
        metrics.install()
        alarms.install()
        stack_updates.install()
        stacks = read_assembly(assembly)
        bootstrap(self.moto.client, stacks, self.log)
        for stack in stacks:
            self.outputs[stack.stack_name] = deploy_stack(self.moto.client, stack, self.log)
            self.stack_names.append(stack.stack_name)
        self.timings["deploy"] = time.monotonic() - started - self.timings["synth"]
        self._start_runtime()
        self._start_codedeploy()
        self._start_front_door()
        self._start_sites()
        self._start_triggers()
        self._create_test_users()
        self.timings["ready"] = time.monotonic() - started
        self.lock.publish(
            {
                "front_door": self.endpoints.front_door,
                "moto": self.endpoints.moto,
                "admin_credentials": self.moto.admin_credentials,
                "apis": self.endpoints.apis,
                "sites": self.endpoints.sites,
                "test_user": {"email": TEST_USER_EMAIL, "password": self.test_user_password},
            }
        )

    def _start_runtime(self) -> None:
        assert self.moto is not None
        moto = self.moto
        rates_api = self.rates_api
        self.runtime = LambdaRuntime(
            endpoint_url=moto.endpoint_url,
            code_root=self.state_dir / "functions",
            log=self.log,
            send_message=lambda arn, body: moto.client("sqs").send_message(
                QueueUrl=moto.client("sqs").get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"],
                MessageBody=body,
            ),
            extra_environment={"SSL_CERT_FILE": str(rates_api.trust_bundle)} if rates_api else None,
        )
        specs = self.runtime.load()
        lambda_api.serve(self.runtime)
        self.log(
            f"local Lambda: {len(specs)} function(s); each version runs its own code in environments "
            "started on first use (provisioned concurrency: before)"
        )
        runtime = self.runtime
        extensions.ON_PROVISIONED_CONCURRENCY[:] = [runtime.provision]
        for alias_arn in list(extensions.PROVISIONED_CONCURRENCY):
            parts = alias_arn.split(":")
            runtime.provision(parts[6], parts[7])
        alarms.EVALUATOR.start()
        if rates_api is not None:
            api_key = self._rates_api_key()
            rates_api.expected_key = lambda: api_key

    def _start_codedeploy(self) -> None:
        """CodeDeploy runs the deployments of aliases with a CodeDeployLambdaAliasUpdate policy (issue 15)."""
        self.codedeploy = codedeploy.Engine(
            log=self.log, provision=self._provision, evaluate_alarms=self._evaluate_alarms
        )
        codedeploy.ENGINE[:] = [self.codedeploy]

    def _provision(self, function_name: str, alias_name: str) -> None:
        """Re-provision an alias's environments after CodeDeploy moved it (the runtime's, when it can)."""
        provision = getattr(self.runtime, "provision", None)
        if provision is not None:
            provision(function_name, alias_name)

    def _evaluate_alarms(self) -> None:
        """Evaluate every alarm on the metrics published so far (the local alarm evaluator, when present)."""
        evaluator = getattr(self, "alarm_evaluator", None)
        if evaluator is None:
            try:
                from local_cloud import alarms  # type: ignore[attr-defined,unused-ignore]
            except ImportError:
                return
            evaluator = getattr(alarms, "EVALUATOR", None)
        if evaluator is not None:
            evaluator.evaluate_now()

    def _rates_api_key(self) -> str | None:
        """The value of the secret the job sends as its API key (the fake provider checks it)."""
        assert self.runtime is not None and self.moto is not None and self.rates_api is not None
        for spec in self.runtime.specs.values():
            if spec.environment.get("API_URL") == self.rates_api.url:
                arn = spec.environment.get("API_KEY_SECRET_ARN")
                if arn:
                    return str(
                        self.moto.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
                    )
        return None

    def _start_front_door(self) -> None:
        assert self.runtime is not None and self.moto is not None
        self.api_gateway = ApiGateway(self.runtime, self.log)
        self.hosted_ui = HostedUi(self.moto.client, self._redirect_aliases)
        self.front_door = HttpServer(self.ports.front, self._route)
        self.front_door.start()
        front = self.front_door.url
        self.endpoints.front_door = front
        apigateway = self.moto.client("apigateway")
        for api in apigateway.get_rest_apis().get("items", []):
            for stage in apigateway.get_stages(restApiId=api["id"]).get("item", []):
                self.endpoints.apis[api["name"]] = f"{front}/{api['id']}/{stage['stageName']}/"
        cognito = self.moto.client("cognito-idp")
        for pool in cognito.list_user_pools(MaxResults=60).get("UserPools", []):
            domain = cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"].get("Domain")
            if domain:
                self.endpoints.hosted_ui[pool["Name"]] = f"{front}/cognito/{domain}"

    def _start_sites(self) -> None:
        assert self.moto is not None
        ports = iter(self.ports.sites)
        for stack_name in self.stack_names:
            stack = DeployedStack(stack_name)
            for logical_id, resource in stack.resources.items():
                if resource["Type"] != "AWS::CloudFront::Distribution":
                    continue
                origin = resource["Properties"]["DistributionConfig"]["Origins"][0]["DomainName"]
                bucket = stack.ref(origin["Fn::GetAtt"][0])
                domain = stack.get_att(logical_id, "DomainName")
                server = HttpServer(next(ports), self._site_route(bucket))
                server.start()
                site = Site(stack_name, domain, bucket, server)
                self.sites.append(site)
                self.endpoints.sites[stack_name.rsplit("-", 1)[-1]] = site.url
                self._origin_map[server.url] = f"https://{domain}"

    def _redirect_aliases(self) -> dict[str, str]:
        return {f"https://{site.distribution_domain}/": site.url for site in self.sites}

    def _start_triggers(self) -> None:
        assert self.runtime is not None and self.moto is not None
        self.triggers = Triggers(
            self.runtime,
            endpoint_url=self.moto.endpoint_url,
            credentials=self.moto.admin_credentials,
            log=self.log,
        )
        for stack_name in self.stack_names:
            self.triggers.add_stack(stack_name)
        self.triggers.load_schedules()
        self.triggers.start()

    def _create_test_users(self) -> None:
        assert self.moto is not None
        cognito = self.moto.client("cognito-idp")
        for pool in cognito.list_user_pools(MaxResults=60).get("UserPools", []):
            cognito.admin_create_user(
                UserPoolId=pool["Id"],
                Username=TEST_USER_EMAIL,
                UserAttributes=[
                    {"Name": "email", "Value": TEST_USER_EMAIL},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",
            )
            cognito.admin_set_user_password(
                UserPoolId=pool["Id"],
                Username=TEST_USER_EMAIL,
                Password=self.test_user_password,
                Permanent=True,
            )

    def stop(self) -> None:
        """Stop everything started so far (idempotent)."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        codedeploy.ENGINE.clear()
        for step in (
            alarms.EVALUATOR.stop,
            extensions.ON_PROVISIONED_CONCURRENCY.clear,
            lambda: self.triggers and self.triggers.stop(),
            lambda: self.runtime and self.runtime.wait_for_async(timeout=5),
            lambda: self.front_door and self.front_door.stop(),
            lambda: [site.server.stop() for site in self.sites],
            lambda: self.runtime and self.runtime.stop(),
            lambda_api.stop_serving,
            lambda: self.moto and self.moto.stop(),
            lambda: self.rates_api and self.rates_api.stop(),
            self.lock.release,
        ):
            try:
                step()
            except Exception as error:  # keep stopping the rest
                self.log(f"while stopping: {error}")

    # ---- routing -----------------------------------------------------------------------------
    def _route(self, request: HttpRequest) -> HttpResponse:
        path = urlsplit(request.raw_path).path
        if path.startswith("/_local/"):
            return self._control(request)
        if path.startswith("/cognito/"):
            assert self.hosted_ui is not None
            return self.hosted_ui.handle(request)
        assert self.api_gateway is not None
        if self.api_gateway.owns(path):
            return self._api_with_site_origins(request)
        return HttpResponse.json(
            404,
            {
                "message": "nothing is deployed here",
                "apis": self.endpoints.apis,
                "sites": self.endpoints.sites,
            },
        )

    def _api_with_site_origins(self, request: HttpRequest) -> HttpResponse:
        """The API, with a local site's origin presented as its distribution's (and back in the response)."""
        assert self.api_gateway is not None
        local_origin = request.header("Origin")
        mapped = self._origin_map.get(local_origin or "")
        if mapped and local_origin:
            request.headers = [(k, mapped if k.lower() == "origin" else v) for k, v in request.headers]
        response = self.api_gateway.handle(request)
        if mapped and local_origin:
            response.headers = {k: local_origin if v == mapped else v for k, v in response.headers.items()}
        return response

    def _site_route(self, bucket: str) -> Callable[[HttpRequest], HttpResponse]:
        def route(request: HttpRequest) -> HttpResponse:
            assert self.moto is not None
            key = urlsplit(request.raw_path).path.lstrip("/") or "index.html"
            try:
                found = self.moto.client("s3").get_object(Bucket=bucket, Key=key)
            except Exception:
                return HttpResponse(404, {"Content-Type": "text/plain"}, b"Not Found")
            body: bytes = found["Body"].read()
            content_type = str(found.get("ContentType") or "application/octet-stream")
            if key.endswith(".js"):
                content_type = "text/javascript"
            if content_type.startswith(("application/json", "text/")):
                body = self._local_endpoints(body.decode()).encode()
            return HttpResponse(200, {"Content-Type": content_type, "Cache-Control": "no-store"}, body)

        return route

    def _local_endpoints(self, text: str) -> str:
        """AWS endpoint URLs in a site file, replaced by their local stand-ins (what the CDN serves)."""
        front = self.endpoints.front_door
        text = re.sub(rf"https://([a-z0-9]+)\.execute-api\.{REGION}\.amazonaws\.com/", rf"{front}/\1/", text)
        return re.sub(
            rf"https://([a-z0-9-]+)\.auth\.{REGION}\.amazoncognito\.com", rf"{front}/cognito/\1", text
        )

    def _control(self, request: HttpRequest) -> HttpResponse:
        path = urlsplit(request.raw_path)
        if path.path == "/_local/run-job" and request.method == "POST":
            assert self.triggers is not None
            name = dict(p.split("=", 1) for p in path.query.split("&") if "=" in p).get("name") or None
            try:
                result = self.triggers.fire(name)
            except LookupError as error:
                return HttpResponse.json(400, {"message": str(error)})
            return HttpResponse.json(200, {"ok": result.ok, "payload": result.payload, "error": result.error})
        if path.path == "/_local/status":
            return HttpResponse.json(200, self.status())
        return HttpResponse.json(404, {"message": "unknown control endpoint"})

    # ---- reporting ---------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Functions (cold starts, invocations), mappings and schedules."""
        assert self.runtime is not None and self.triggers is not None
        return {
            "functions": self.runtime.status(),
            "kinesis_mappings": [
                {"mapping": m.logical_id, "records": m.records, "parked_batches": m.parked_batches}
                for m in self.triggers.mappings
            ],
            "schedules": sorted(self.triggers.schedules),
        }

    def _alarm_states(self) -> str:
        """How many alarms are in which state, as the CloudWatch API answers now."""
        assert self.moto is not None
        counts: dict[str, int] = {}
        for page in self.moto.client("cloudwatch").get_paginator("describe_alarms").paginate():
            for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
                counts[alarm["StateValue"]] = counts.get(alarm["StateValue"], 0) + 1
        return ", ".join(f"{count} alarm(s): {state}" for state, count in sorted(counts.items())) or "none"

    def report(self) -> str:
        """The text ``make local`` prints when ready."""
        assert self.moto is not None
        lines = ["", "What is not emulated, and what stands in for it:"]
        seen: dict[tuple[str, str], int] = {}
        for item in extensions.NOT_EMULATED:
            seen[(item.resource_type, item.stand_in)] = seen.get((item.resource_type, item.stand_in), 0) + 1
        for (resource_type, stand_in), count in sorted(seen.items()):
            lines.append(f"  - {resource_type} (x{count}): {stand_in}")
        used_types = {
            resource["Type"]
            for name in self.stack_names
            for resource in DeployedStack(name).resources.values()
        }
        for resource_type, caveat in sorted(extensions.CAVEATS.items()):
            if resource_type in used_types:
                lines.append(f"  - {resource_type}: emulated; {caveat}")
        lines += [
            "  - Powertools layer: the same release from the virtual environment; X-Ray tracing: off",
            "  - CloudWatch metrics: published by the local Lambda, API Gateway and SQS (AWS/Lambda,"
            " AWS/ApiGateway, AWS/SQS, in cloud time); alarms evaluated every cloud minute: "
            + self._alarm_states(),
            "  - function logs: printed here and written to each function's CloudWatch log group",
            "  - across a restart: the admin keys and the test user's password are kept in the state folder"
            " (make local-reset forgets them); data (tables, queues, objects, users) and stacks deployed with"
            " cdk deploy are not: moto holds them in memory",
            f"  - time: the cloud's clock runs {CLOCK.scale:g}x (LOCAL_CLOUD_TIME_SCALE, 1 to 3600; at 60 a"
            " 10%/5-minute canary takes 5 s); deployments of aliases with a deployment group are run by the"
            " local CodeDeploy (hooks, traffic shifting, alarm rollback): make local-canary shows three",
            "",
            f"Ready in {self.timings.get('ready', 0):.1f} s ({len(self.stack_names)} stacks). "
            "Endpoints (all on 127.0.0.1):",
        ]
        for name, url in sorted(self.endpoints.apis.items()):
            lines.append(f"  API {name}: {url}")
        for name, url in sorted(self.endpoints.sites.items()):
            lines.append(f"  site {name}: {url}  (sign in as {TEST_USER_EMAIL} / {self.test_user_password})")
        for name, url in sorted(self.endpoints.hosted_ui.items()):
            lines.append(f"  sign-in (hosted UI stand-in) for {name}: {url}/oauth2/authorize")
        if self.endpoints.rates_api:
            lines.append(f"  fake exchange-rates API: {self.endpoints.rates_api}")
        creds = self.moto.admin_credentials
        lines += [
            "",
            "Inspect the services with the AWS CLI or boto3 (IAM is enforced; the local admin's keys):",
            f"  export AWS_ENDPOINT_URL={self.moto.endpoint_url} AWS_REGION={REGION} "
            f"AWS_DEFAULT_REGION={REGION} "
            f"AWS_ACCESS_KEY_ID={creds['AWS_ACCESS_KEY_ID']} "
            f"AWS_SECRET_ACCESS_KEY={creds['AWS_SECRET_ACCESS_KEY']}",
            "  aws cloudformation list-stacks; aws dynamodb list-tables; aws lambda list-functions",
            "  aws --endpoint-url $AWS_ENDPOINT_URL sqs list-queues",
            "  aws logs filter-log-events --log-group-name /aws/lambda/<function>",
            "  (AWS CLI v1 ignores AWS_ENDPOINT_URL for SQS, hence --endpoint-url, which v2 takes too;"
            " `aws logs tail` is v2 only)",
            "  boto3.client('dynamodb').scan(TableName=...)   # same environment variables",
            "Run the exchange-rates job now: make local-run-job  (or python -m local_cloud run-job)",
            "Stop with Ctrl-C.",
        ]
        return "\n".join(lines)


def _password() -> str:
    """A password meeting the pools' policy (12+ characters, all four character classes)."""
    alphabet = string.ascii_letters + string.digits
    return "Local-" + "".join(secrets.choice(alphabet) for _ in range(10)) + "7a!"


def _kept_password(path: Path) -> str:
    """The test user's password: the one kept in the state folder, or a new one kept there."""
    try:
        return path.read_text().strip()
    except OSError:
        password = _password()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(password)
        path.chmod(0o600)
        return password


def _print(message: str) -> None:
    print(message, file=sys.stdout, flush=True)


def running_instance(state_dir: Path | None = None) -> dict[str, Any] | None:
    """What the running local cloud of ``state_dir`` published (URLs, credentials), if one runs."""
    info_path = (state_dir or default_state_dir()) / "instance.json"
    try:
        info: dict[str, Any] = json.loads(info_path.read_text())
    except (OSError, ValueError):
        return None
    return info
