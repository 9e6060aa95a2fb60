"""Signature Version 4 checked the way API Gateway checks it for ``AWS_IAM`` methods.

Every failure is an ``AuthFailure`` carrying API Gateway's own message (the caller answers 403 with it):
a missing or malformed ``Authorization`` header, an unknown access key, a credential scope for another
date, region or service, a request time more than 15 minutes away from now, an ``x-amz-content-sha256``
header that is not the body's hash, a signature that does not match. Header names are compared without
regard to case (HTTP says they are case-insensitive; clients such as awscurl send ``x-amz-date``).
"""

from __future__ import annotations

import hashlib
import hmac
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from moto.iam.access_control import CreateAccessKeyFailure, IAMPolicy, PermissionResult, create_access_key

ALGORITHM = "AWS4-HMAC-SHA256"
#: How far the request's time may be from the server's (AWS: 15 minutes either way).
MAX_SKEW = timedelta(minutes=15)
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."
MISSING_TOKEN = "Missing Authentication Token"


class AuthFailure(Exception):
    """The request's signature is refused; ``message`` is what API Gateway answers (status 403)."""

    def __init__(self, message: str, response_type: str = "INVALID_SIGNATURE") -> None:
        super().__init__(message)
        self.message = message
        self.response_type = response_type


@dataclass(frozen=True)
class SignedCaller:
    """Who signed a request that passed: the access key and moto's view of it (for IAM checks)."""

    access_key_id: str
    access_key: Any


def _headers(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, value in pairs:
        found.setdefault(key.lower(), []).append(value)
    return found


def _moto_headers(by_name: dict[str, list[str]]) -> dict[str, str]:
    """The headers moto's IAM code reads, under the spelling it looks them up by."""
    spelled = {"authorization": "Authorization", "x-amz-security-token": "X-Amz-Security-Token"}
    return {spelled.get(name, name): values[0] for name, values in by_name.items()}


def _fields(authorization: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in authorization[len(ALGORITHM) :].split(","):
        key, _, value = part.strip().partition("=")
        if key:
            fields[key] = value
    return fields


def _canonical_uri(path: str) -> str:
    """AWS's rule for every service but S3: the normalized path, URI-encoded again."""
    normalized = posixpath.normpath(path) if path not in ("", "/") else "/"
    if path.endswith("/") and not normalized.endswith("/"):
        normalized += "/"
    normalized = normalized.replace("//", "/")
    return quote(normalized, safe="/~")


def _canonical_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _sign(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def verify(
    *,
    method: str,
    raw_path: str,
    headers: list[tuple[str, str]],
    body: bytes,
    account_id: str,
    region: str,
    service: str = "execute-api",
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SignedCaller:
    """Check one request's SigV4 signature; raise ``AuthFailure`` with API Gateway's message if refused."""
    by_name = _headers(headers)
    authorization = (by_name.get("authorization") or [""])[0]
    if not authorization.startswith(ALGORITHM):
        raise AuthFailure(MISSING_TOKEN, "MISSING_AUTHENTICATION_TOKEN")
    fields = _fields(authorization)
    credential, signed_headers, signature = (
        fields.get("Credential"),
        fields.get("SignedHeaders"),
        fields.get("Signature"),
    )
    if not credential or not signed_headers or not signature:
        missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)]
        raise AuthFailure(
            f"Authorization header requires '{missing[0]}' parameter. Authorization={authorization}",
            "INCOMPLETE_SIGNATURE",
        )
    scope = credential.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise AuthFailure(
            f"Credential should be scoped to a valid region, not '{scope[2] if len(scope) > 2 else ''}'. ",
            "INCOMPLETE_SIGNATURE",
        )
    access_key_id, scope_date, scope_region, scope_service, _ = scope
    amz_date = (by_name.get("x-amz-date") or [""])[0]
    if not amz_date:
        raise AuthFailure(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
            f"Authorization={authorization}",
            "INCOMPLETE_SIGNATURE",
        )
    try:
        moment = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise AuthFailure(f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'.") from None
    if scope_date != amz_date[:8]:
        raise AuthFailure(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{scope_date}' != '{amz_date[:8]}', from '{amz_date}'."
        )
    if scope_region != region:
        raise AuthFailure(f"Credential should be scoped to a valid region, not '{scope_region}'. ")
    if scope_service != service:
        raise AuthFailure(f"Credential should be scoped to correct service: '{service}'. ")
    current = now()
    stamp = "%Y%m%dT%H%M%SZ"
    if moment < current - MAX_SKEW:
        raise AuthFailure(
            f"Signature expired: {amz_date} is now earlier than {(current - MAX_SKEW):{stamp}} "
            f"({current:{stamp}} - 15 min.)"
        )
    if moment > current + MAX_SKEW:
        raise AuthFailure(
            f"Signature not yet current: {amz_date} is still later than {(current + MAX_SKEW):{stamp}} "
            f"({current:{stamp}} + 15 min.)"
        )
    body_hash = hashlib.sha256(body).hexdigest()
    declared: str | None = by_name["x-amz-content-sha256"][0] if "x-amz-content-sha256" in by_name else None
    if declared is not None and declared != "UNSIGNED-PAYLOAD" and declared != body_hash:
        raise AuthFailure(SIGNATURE_MISMATCH)
    try:
        access_key = create_access_key(
            account_id=account_id,
            partition="aws",
            access_key_id=access_key_id,
            headers=_moto_headers(by_name),
        )
    except CreateAccessKeyFailure:
        raise AuthFailure(INVALID_TOKEN, "UNAUTHORIZED") from None
    credentials = access_key.create_credentials()
    names = signed_headers.split(";")
    if "host" not in names:
        raise AuthFailure(SIGNATURE_MISMATCH)
    canonical_headers = "".join(
        f"{name}:{','.join(' '.join(value.split()) for value in by_name.get(name, []))}\n" for name in names
    )
    split = urlsplit(raw_path)
    payload_hash = declared if declared == "UNSIGNED-PAYLOAD" else body_hash
    canonical = "\n".join(
        [
            method.upper(),
            _canonical_uri(split.path or "/"),
            _canonical_query(split.query),
            canonical_headers,
            signed_headers,
            payload_hash,
        ]
    )
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            amz_date,
            f"{scope_date}/{scope_region}/{scope_service}/aws4_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = _sign(f"AWS4{credentials.secret_key}".encode(), scope_date)
    for part in (scope_region, scope_service, "aws4_request"):
        key = _sign(key, part)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        # Some clients sign the path as sent, not encoded again: accept that form of the same request too.
        alternative = canonical.replace(_canonical_uri(split.path or "/"), split.path or "/", 1)
        alt_sts = string_to_sign.rsplit("\n", 1)[0] + "\n" + hashlib.sha256(alternative.encode()).hexdigest()
        if not hmac.compare_digest(hmac.new(key, alt_sts.encode(), hashlib.sha256).hexdigest(), signature):
            raise AuthFailure(SIGNATURE_MISMATCH)
    if credentials.token and (by_name.get("x-amz-security-token") or [""])[0] != credentials.token:
        raise AuthFailure(INVALID_TOKEN, "UNAUTHORIZED")
    return SignedCaller(access_key_id, access_key)


def permitted(caller: SignedCaller, action: str, resource: str) -> bool | None:
    """The caller's IAM policies on ``action`` over ``resource``: True allowed, False explicitly denied,
    None not allowed by any statement (an implicit deny)."""
    allowed: bool | None = None
    for policy in caller.access_key.collect_policies():
        result = IAMPolicy(policy).is_action_permitted(action, resource)
        if result == PermissionResult.DENIED:
            return False
        if result == PermissionResult.PERMITTED:
            allowed = True
    return allowed
