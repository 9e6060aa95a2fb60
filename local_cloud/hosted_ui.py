"""A local stand-in for the Cognito hosted UI: sign-in page, authorization code + PKCE, token and logout.

Served at ``<front>/cognito/<domain>/`` for every user pool domain of the local cloud (the local form
of ``https://<domain>.auth.<region>.amazoncognito.com``). The page checks the user's password with
the local Cognito user pool (``AdminInitiateAuth``) and the tokens it hands out are the ones the
local Cognito issued, so the API's authorizer verifies them like any other pool token. Only
``response_type=code`` with S256 PKCE is offered, and ``redirect_uri`` must be one of the app
client's callback URLs (or the local site standing in for one).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from local_cloud.api_gateway import HttpRequest, HttpResponse

Clients = Callable[[str], Any]


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    tokens: dict[str, Any]
    expires: float


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in (local)</title>
<style>body{{font-family:sans-serif;max-width:22rem;margin:4rem auto}}
label,input,button{{display:block;width:100%;margin:.4rem 0}}.error{{color:#b00}}</style></head><body>
<h1>Sign in</h1><p>Local stand-in for the Cognito hosted UI of <code>{domain}</code>.</p>{error}
<form method="post"><input type="hidden" name="query" value="{query}">
<label for="username">Email</label>
<input id="username" name="username" type="email" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button id="sign-in-submit" type="submit">Sign in</button></form></body></html>"""


class HostedUi:
    """The hosted-UI endpoints of every local user pool domain."""

    def __init__(self, clients: Clients, redirect_aliases: Callable[[], dict[str, str]]) -> None:
        self._clients = clients
        self._redirect_aliases = redirect_aliases
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer ``/cognito/<domain>/<endpoint>``."""
        split = urlsplit(request.raw_path)
        _, _, domain, *rest = split.path.split("/", 3)
        endpoint = "/" + (rest[0] if rest else "")
        cors = _cors(request)
        if request.method == "OPTIONS":
            return HttpResponse(204, cors, b"")
        pool_id = self._pool_of(domain)
        if pool_id is None:
            return HttpResponse.json(404, {"error": "unknown domain"}, cors)
        query = dict(parse_qsl(split.query))
        if endpoint == "/oauth2/authorize" and request.method == "GET":
            return self._authorize_page(domain, pool_id, query, "")
        if endpoint == "/oauth2/authorize" and request.method == "POST":
            return self._sign_in(domain, pool_id, dict(parse_qsl(request.body.decode())))
        if endpoint == "/oauth2/token" and request.method == "POST":
            return self._token(dict(parse_qsl(request.body.decode())), cors)
        if endpoint == "/logout":
            target = query.get("logout_uri") or query.get("redirect_uri") or "/"
            return HttpResponse(302, {"Location": target}, b"")
        return HttpResponse.json(404, {"error": "not found"}, cors)

    def _pool_of(self, domain: str) -> str | None:
        try:
            described = self._clients("cognito-idp").describe_user_pool_domain(Domain=domain)
        except Exception:
            return None
        pool_id = described.get("DomainDescription", {}).get("UserPoolId")
        return str(pool_id) if pool_id else None

    def _check_client(self, pool_id: str, query: dict[str, str]) -> str | None:
        """An error message, or None when client, redirect and PKCE parameters are acceptable."""
        try:
            app_client = self._clients("cognito-idp").describe_user_pool_client(
                UserPoolId=pool_id, ClientId=query.get("client_id", "")
            )["UserPoolClient"]
        except Exception:
            return "unknown client_id"
        allowed = set(app_client.get("CallbackURLs", []))
        aliases = self._redirect_aliases()
        allowed |= {aliases[url] for url in list(allowed) if url in aliases}
        if query.get("redirect_uri") not in allowed:
            return f"redirect_uri {query.get('redirect_uri')!r} is not a callback URL of this client"
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            return "only response_type=code with code_challenge_method=S256 is supported"
        if not query.get("code_challenge"):
            return "code_challenge is required"
        return None

    def _authorize_page(self, domain: str, pool_id: str, query: dict[str, str], error: str) -> HttpResponse:
        problem = self._check_client(pool_id, query)
        if problem:
            return HttpResponse(400, {"Content-Type": "text/plain"}, problem.encode())
        message = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
        page = _PAGE.format(domain=html.escape(domain), error=message, query=html.escape(urlencode(query)))
        return HttpResponse(200, {"Content-Type": "text/html; charset=utf-8"}, page.encode())

    def _sign_in(self, domain: str, pool_id: str, form: dict[str, str]) -> HttpResponse:
        query = dict(parse_qsl(form.get("query", "")))
        problem = self._check_client(pool_id, query)
        if problem:
            return HttpResponse(400, {"Content-Type": "text/plain"}, problem.encode())
        try:
            result = self._clients("cognito-idp").admin_initiate_auth(
                UserPoolId=pool_id,
                ClientId=query["client_id"],
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": form.get("username", ""), "PASSWORD": form.get("password", "")},
            )
        except Exception:
            return self._authorize_page(domain, pool_id, query, "Incorrect username or password.")
        tokens = result.get("AuthenticationResult")
        if not tokens:
            return self._authorize_page(
                domain, pool_id, query, f"Challenge {result.get('ChallengeName')} is not supported locally."
            )
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(
                client_id=query["client_id"],
                redirect_uri=query["redirect_uri"],
                challenge=query["code_challenge"],
                tokens=tokens,
                expires=time.time() + 300,
            )
        location = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        return HttpResponse(302, {"Location": location}, b"")

    def _token(self, form: dict[str, str], cors: dict[str, str]) -> HttpResponse:
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)
        if form.get("grant_type") != "authorization_code" or grant is None or grant.expires < time.time():
            return HttpResponse.json(400, {"error": "invalid_grant"}, cors)
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            digest != grant.challenge
            or form.get("client_id") != grant.client_id
            or form.get("redirect_uri") != grant.redirect_uri
        ):
            return HttpResponse.json(400, {"error": "invalid_grant"}, cors)
        tokens = grant.tokens
        document = {
            "id_token": tokens["IdToken"],
            "access_token": tokens["AccessToken"],
            "refresh_token": tokens.get("RefreshToken", ""),
            "expires_in": int(tokens.get("ExpiresIn", 3600)),
            "token_type": "Bearer",
        }
        return HttpResponse(200, {"Content-Type": "application/json", **cors}, json.dumps(document).encode())


def _cors(request: HttpRequest) -> dict[str, str]:
    origin = request.header("Origin")
    if not origin:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type,Authorization",
    }
