"""Synthesize the app the way ``cdk synth`` does, and deploy its cloud assembly as ``cdk deploy`` would.

``synthesize`` runs ``app.py`` in a child process with the CLI's own protocol (``CDK_OUTDIR``,
``CDK_CONTEXT_JSON`` with cdk.json's context), so cdk-nag runs and a finding stops ``make local``.
``deploy_assembly`` bootstraps the local account (assets bucket, SSM version parameter, the public
layers our functions reference), publishes every file asset of every stack to the bootstrap bucket
(zipping folders like the CDK CLI does) and creates each stack through the local CloudFormation API
from the template it just uploaded.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_cloud.moto_cfn_extensions import take_failures
from local_cloud.settings import ACCOUNT_ID, BOOTSTRAP_QUALIFIER, BOOTSTRAP_VERSION, REGION, REPO_ROOT

Log = Callable[[str], None]
#: The bootstrap template of the pinned CDK CLI (package.json), deployed as `cdk bootstrap` would.
BOOTSTRAP_TEMPLATE = (
    REPO_ROOT / "node_modules" / "aws-cdk" / "lib" / "api" / "bootstrap" / "bootstrap-template.yaml"
)
TOOLKIT_STACK = "CDKToolkit"
Clients = Callable[[str], Any]


class SynthError(RuntimeError):
    """``app.py`` failed (a cdk-nag finding, a bad prop, a Python error); the message has its output."""


class DeployError(RuntimeError):
    """A stack did not reach CREATE_COMPLETE in the local CloudFormation."""


@dataclass(frozen=True)
class StackArtifact:
    """One stack of the cloud assembly: its name, template and asset manifest."""

    stack_name: str
    template_file: Path
    asset_manifest: Path | None
    dependencies: tuple[str, ...]

    def template(self) -> dict[str, Any]:
        """The synthesized template."""
        document: dict[str, Any] = json.loads(self.template_file.read_text())
        return document


def synthesize(
    outdir: Path,
    *,
    stage: str,
    context: dict[str, str] | None = None,
    app: str | None = None,
    app_dir: Path | None = None,
) -> Path:
    """Run the CDK app into ``outdir`` (the cloud assembly) and return ``outdir``.

    ``app``: the app's command (as cdk.json's ``app``, e.g. ``python3 app.py``) run in ``app_dir``
    (default: the current folder) with that folder's cdk.json context; ``None``: this repository's
    reference app for ``stage``.
    """
    folder = (app_dir or (Path.cwd() if app else REPO_ROOT)).resolve()
    cdk_json_file = folder / "cdk.json"
    cdk_json = json.loads(cdk_json_file.read_text()) if cdk_json_file.exists() else {}
    command = shlex.split(app) if app else [sys.executable, "app.py"]
    stage_context = {} if app else {"stage": stage}
    full_context = {**cdk_json.get("context", {}), **stage_context, **(context or {})}
    outdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(full_context),
        "CDK_VALIDATION": os.environ.get("CDK_VALIDATION", "false"),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
    result = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SynthError(f"synthesis failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return outdir


def read_assembly(outdir: Path) -> list[StackArtifact]:
    """The stacks of the cloud assembly in ``outdir``, in deployment order (dependencies first)."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    artifacts: dict[str, Any] = manifest["artifacts"]
    stacks: dict[str, StackArtifact] = {}
    for artifact_id, artifact in artifacts.items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        dependencies = tuple(artifact.get("dependencies", []))
        asset_manifest = None
        for dependency in dependencies:
            if artifacts.get(dependency, {}).get("type") == "cdk:asset-manifest":
                asset_manifest = outdir / artifacts[dependency]["properties"]["file"]
        stacks[artifact_id] = StackArtifact(
            stack_name=artifact.get("properties", {}).get("stackName", artifact_id),
            template_file=outdir / artifact["properties"]["templateFile"],
            asset_manifest=asset_manifest,
            dependencies=tuple(d for d in dependencies if d in artifacts and d != artifact_id),
        )
    ordered: list[StackArtifact] = []
    placed: set[str] = set()

    def place(artifact_id: str) -> None:
        if artifact_id in placed or artifact_id not in stacks:
            return
        placed.add(artifact_id)
        for dependency in stacks[artifact_id].dependencies:
            place(dependency)
        ordered.append(stacks[artifact_id])

    for artifact_id in stacks:
        place(artifact_id)
    return ordered


def _substitute(text: str) -> str:
    return (
        text.replace("${AWS::AccountId}", ACCOUNT_ID)
        .replace("${AWS::Region}", REGION)
        .replace("${AWS::Partition}", "aws")
    )


def bootstrap_bucket() -> str:
    """The assets bucket ``cdk bootstrap`` creates for the default qualifier."""
    return f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{ACCOUNT_ID}-{REGION}"


def bootstrap(clients: Clients, stacks: list[StackArtifact], log: Log) -> None:
    """What ``cdk bootstrap`` leaves in an account, plus the public layers the templates name."""
    if BOOTSTRAP_TEMPLATE.exists():
        # The pinned CDK CLI's own bootstrap stack, as `cdk bootstrap` creates it: a later
        # `npx cdk bootstrap` finds CDKToolkit in place, and `cdk deploy` its bucket and version.
        cloudformation = clients("cloudformation")
        cloudformation.create_stack(
            StackName=TOOLKIT_STACK,
            TemplateBody=BOOTSTRAP_TEMPLATE.read_text(),
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        )
        _wait_for_stack(cloudformation, TOOLKIT_STACK)
    else:  # no node_modules: what `cdk bootstrap` leaves that the local deployment needs
        clients("s3").create_bucket(Bucket=bootstrap_bucket())
        clients("ssm").put_parameter(
            Name=f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version",
            Value=BOOTSTRAP_VERSION,
            Type="String",
            Overwrite=True,
        )
    layers: dict[str, int] = {}
    for stack in stacks:
        text = json.dumps(stack.template())
        for name, version in re.findall(r":layer:([A-Za-z0-9_-]+):(\d+)", text):
            layers[name] = max(layers.get(name, 0), int(version))
    lambda_client = clients("lambda")
    for name, version in sorted(layers.items()):
        # Layer versions are numbered by publication; publish up to the one the templates pin.
        existing = lambda_client.list_layer_versions(LayerName=name).get("LayerVersions", [])
        for _ in range(len(existing), version):
            lambda_client.publish_layer_version(
                LayerName=name,
                Description="Local stand-in: the same release is installed in the virtual environment",
                Content={"ZipFile": _zip_bytes({"python/LOCAL_STAND_IN.txt": b"see description"})},
                CompatibleRuntimes=["python3.14"],
            )
    log(
        f"bootstrapped the local account {ACCOUNT_ID} ({REGION}): bucket {bootstrap_bucket()}, "
        f"{len(layers)} public layer(s) stood in"
    )


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def publish_assets(clients: Clients, stack: StackArtifact) -> tuple[int, str | None]:
    """Upload the stack's file assets; return how many, and the S3 URL of its template (if listed)."""
    if stack.asset_manifest is None:
        return 0, None
    manifest = json.loads(stack.asset_manifest.read_text())
    s3 = clients("s3")
    base = stack.asset_manifest.parent
    template_url = None
    count = 0
    for asset in manifest.get("files", {}).values():
        source = base / asset["source"]["path"]
        body = _zip_folder(source) if asset["source"].get("packaging") == "zip" else source.read_bytes()
        for destination in asset["destinations"].values():
            bucket, key = _substitute(destination["bucketName"]), _substitute(destination["objectKey"])
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            count += 1
            if source.resolve() == stack.template_file.resolve():
                template_url = f"https://s3.{REGION}.amazonaws.com/{bucket}/{key}"
    return count, template_url


def deploy_stack(clients: Clients, stack: StackArtifact, log: Log) -> dict[str, str]:
    """Publish the assets and create the stack; return its outputs. Prints one line per resource."""
    started = time.monotonic()
    count, template_url = publish_assets(clients, stack)
    cloudformation = clients("cloudformation")
    source: dict[str, str] = (
        {"TemplateURL": template_url} if template_url else {"TemplateBody": stack.template_file.read_text()}
    )
    log(f"{stack.stack_name}: {count} asset(s) published; creating the stack")
    try:
        cloudformation.create_stack(
            StackName=stack.stack_name,
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            **source,
        )
    except Exception as error:
        failures = "; ".join(take_failures()) or "see the moto log above"
        raise DeployError(f"{stack.stack_name}: CREATE_FAILED: {error} ({failures})") from error
    described = _wait_for_stack(cloudformation, stack.stack_name)
    resources = cloudformation.describe_stack_resources(StackName=stack.stack_name)["StackResources"]
    by_type: dict[str, int] = {}
    for resource in resources:
        by_type[resource["ResourceType"]] = by_type.get(resource["ResourceType"], 0) + 1
    summary = ", ".join(f"{n} {t.split('::', 1)[-1]}" for t, n in sorted(by_type.items()))
    log(
        f"{stack.stack_name}: {described['StackStatus']} in {time.monotonic() - started:.1f} s "
        f"({len(resources)} resources: {summary})"
    )
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def _wait_for_stack(cloudformation: Any, stack_name: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = described["StackStatus"]
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return described
        if status.endswith("FAILED") or "ROLLBACK" in status:
            reason = described.get("StackStatusReason", "")
            raise DeployError(f"{stack_name}: {status} {reason}")
        if time.monotonic() > deadline:
            raise DeployError(f"{stack_name}: still {status} after {timeout:.0f} s")
        time.sleep(0.1)
