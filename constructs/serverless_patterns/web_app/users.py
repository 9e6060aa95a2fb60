"""The web app's users: a Cognito user pool, its hosted UI domain and the browser's app client."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Aws, Duration, Names, RemovalPolicy
from aws_cdk import aws_cognito as cognito

from constructs import Construct
from serverless_patterns.core.nag import acknowledge
from serverless_patterns.web_app.settings import RESERVED_PREFIX_WORDS, SiteSettings


@dataclass(frozen=True)
class Users:
    """What ``build_users`` creates."""

    pool: cognito.UserPool
    domain: cognito.UserPoolDomain


def build_users(scope: Construct, settings: SiteSettings, removal_policy: RemovalPolicy) -> Users:
    """The user pool (see ``build_user_pool``) and its hosted UI domain."""
    pool = build_user_pool(
        scope,
        mfa=settings.mfa,
        threat_protection=settings.threat_protection,
        self_sign_up=settings.self_sign_up,
        removal_policy=removal_policy,
    )
    return Users(pool, add_hosted_ui_domain(scope, pool, settings.auth_domain_prefix))


def build_user_pool(
    scope: Construct,
    *,
    mfa: cognito.Mfa,
    threat_protection: bool,
    self_sign_up: bool,
    removal_policy: RemovalPolicy,
) -> cognito.UserPool:
    """Email sign-in, strong passwords, TOTP MFA as ``mfa`` says, recovery by email only, threat
    protection in enforcement mode (Plus plan) unless switched off; deletion-protected when retained."""
    pool = cognito.UserPool(
        scope,
        "UserPool",
        sign_in_aliases=cognito.SignInAliases(email=True, username=False),
        sign_in_case_sensitive=False,
        self_sign_up_enabled=self_sign_up,
        auto_verify=cognito.AutoVerifiedAttrs(email=True),
        standard_attributes=cognito.StandardAttributes(
            email=cognito.StandardAttribute(required=True, mutable=True)
        ),
        password_policy=cognito.PasswordPolicy(
            min_length=12,
            require_lowercase=True,
            require_uppercase=True,
            require_digits=True,
            require_symbols=True,
            temp_password_validity=Duration.days(3),
        ),
        mfa=mfa,
        mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False) if mfa != cognito.Mfa.OFF else None,
        account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
        feature_plan=cognito.FeaturePlan.PLUS if threat_protection else cognito.FeaturePlan.ESSENTIALS,
        standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION
        if threat_protection
        else cognito.StandardThreatProtectionMode.NO_ENFORCEMENT,
        deletion_protection=removal_policy == RemovalPolicy.RETAIN,
        removal_policy=removal_policy,
    )
    if mfa != cognito.Mfa.REQUIRED:
        acknowledge(
            pool,
            "AwsSolutions-COG2",
            f"MFA is {mfa.name} by the construct's mfa argument (a deliberate per-stage choice); "
            "users can still enroll a TOTP authenticator.",
        )
    if not threat_protection:
        reason = (
            "Threat protection was switched off by the threat_protection argument (a deliberate cost "
            "choice: it needs the per-user-billed Plus feature plan)."
        )
        acknowledge(pool, "AwsSolutions-COG3", reason)
        acknowledge(pool, "AwsSolutions-COG8", reason)
    return pool


def add_hosted_ui_domain(
    scope: Construct, pool: cognito.UserPool, prefix: str | None
) -> cognito.UserPoolDomain:
    """The hosted UI domain ``<prefix>.auth.<region>.amazoncognito.com``; without ``prefix``, one derived
    from ``scope``'s path and the account id."""
    return pool.add_domain(
        "HostedUiDomain",
        cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix or _default_domain_prefix(scope)),
    )


def _default_domain_prefix(scope: Construct) -> str:
    """``<construct path, lowercase, at most 40 chars>-<account id>``: unique per account and region."""
    name = re.sub(r"[^a-z0-9]", "", Names.unique_id(scope).lower())
    for word in RESERVED_PREFIX_WORDS:
        name = name.replace(word, "")
    return f"{name[-40:] or 'webapp'}-{Aws.ACCOUNT_ID}"


def build_client(pool: cognito.UserPool, site_origins: Sequence[str]) -> cognito.UserPoolClient:
    """The browser's app client: authorization code with PKCE, no secret, callbacks on the site."""
    urls = [f"{origin}/" for origin in site_origins]
    return pool.add_client(
        "WebClient",
        generate_secret=False,
        auth_flows=cognito.AuthFlow(user_srp=True),
        o_auth=cognito.OAuthSettings(
            flows=cognito.OAuthFlows(authorization_code_grant=True, implicit_code_grant=False),
            scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
            callback_urls=urls,
            logout_urls=urls,
        ),
        supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
        prevent_user_existence_errors=True,
        enable_token_revocation=True,
        id_token_validity=Duration.hours(1),
        access_token_validity=Duration.hours(1),
        refresh_token_validity=Duration.days(30),
    )
