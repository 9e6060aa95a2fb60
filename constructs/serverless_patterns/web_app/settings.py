"""``SiteSettings``: the site, CloudFront and sign-in arguments of ``WebApp``, checked together, once.

Internal: the construct builds one from its keyword arguments and hands it to the storage, user, CDN and
site builders. The messages name the construct's arguments, since that is what the user wrote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cognito as cognito
from aws_cdk.region_info import RegionInfo

from serverless_patterns.core.validation import (
    check_duration_type,
    check_instance,
    is_token,
    string_tuple,
    token_amount,
)
from serverless_patterns.core.waf import Waf

#: How long access logs are kept when ``access_log_retention`` is not given.
DEFAULT_ACCESS_LOG_RETENTION = Duration.days(90)
#: CloudFront's limit on a Content-Security-Policy header value.
MAX_CSP_LENGTH = 1783
#: Words Cognito refuses in a hosted UI domain prefix.
RESERVED_PREFIX_WORDS = ("aws", "amazon", "cognito")
_OBJECT_NAME = re.compile(r"^[A-Za-z0-9._-][A-Za-z0-9._/-]{0,254}$")
_DOMAIN_NAME = re.compile(r"^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class SiteSettings:
    """Everything about ``WebApp`` except its backend (see ``WebApp`` for each argument).

    Raises:
        TypeError: ``price_class`` or ``mfa`` of the wrong type.
        ValueError: a value outside what ``WebApp`` documents.
    """

    site_folder: Path
    site_exclude: Sequence[str]
    default_root_object: str
    single_page_app: bool
    api_on_same_origin: bool
    content_security_policy: str | None
    price_class: cloudfront.PriceClass
    domain_names: Sequence[str]
    certificate: acm.ICertificate | None
    waf: Waf | None
    mfa: cognito.Mfa
    threat_protection: bool
    self_sign_up: bool
    auth_domain_prefix: str | None
    access_log_retention: Duration

    def __post_init__(self) -> None:
        object.__setattr__(self, "site_exclude", string_tuple("site_exclude", self.site_exclude))
        object.__setattr__(self, "domain_names", string_tuple("domain_names", self.domain_names))
        self._check_site()
        self._check_distribution()
        self._check_users()

    def _check_site(self) -> None:
        folder, root = self.site_folder, self.default_root_object
        if not folder.is_dir():
            raise ValueError(f"site_path must be an existing folder, got {str(folder)!r}")
        if not _OBJECT_NAME.match(root) or ".." in root:
            raise ValueError(
                f"default_root_object must be a relative object name like 'index.html', got {root!r}"
            )
        if not (folder / root).is_file():
            raise ValueError(
                f"default_root_object {root!r} must exist in site_path, but {folder / root} does not"
            )
        check_duration_type("access_log_retention", self.access_log_retention)
        if is_token(self.access_log_retention):
            token_amount("access_log_retention", self.access_log_retention, "days")  # a lifecycle rule's days
        else:
            days = self.access_log_retention.to_seconds() / 86400
            if days != int(days) or not 1 <= days <= 3650:
                raise ValueError(
                    f"access_log_retention must be a whole number of days in 1..3650, got {days:g} days"
                )

    def _check_distribution(self) -> None:
        csp = self.content_security_policy
        if csp is not None and (
            not csp.strip() or any(char in csp for char in "\r\n") or len(csp) > MAX_CSP_LENGTH
        ):
            raise ValueError(
                f"content_security_policy must be 1..{MAX_CSP_LENGTH} characters on one line (CloudFront's "
                f"limit), got {csp!r}"
            )
        check_instance("price_class", self.price_class, cloudfront.PriceClass, "a cloudfront.PriceClass")
        for name in self.domain_names:
            if not is_token(name) and not _DOMAIN_NAME.match(name):
                raise ValueError(
                    f"domain_names entries must be lowercase DNS names like 'app.example.com', got {name!r}"
                )
        if bool(self.domain_names) != (self.certificate is not None):
            raise ValueError(
                "domain_names and certificate go together: a custom domain needs an ACM certificate "
                "(us-east-1) and a certificate needs domain_names; got "
                f"domain_names={list(self.domain_names)} and "
                f"certificate={'set' if self.certificate is not None else 'none'}"
            )

    def _check_users(self) -> None:
        check_instance("mfa", self.mfa, cognito.Mfa, "cognito.Mfa.OFF, OPTIONAL or REQUIRED")
        prefix = self.auth_domain_prefix
        if prefix is None or is_token(prefix):
            return
        if not _DOMAIN_PREFIX.match(prefix) or any(word in prefix for word in RESERVED_PREFIX_WORDS):
            raise ValueError(
                "auth_domain_prefix must be 1..63 lowercase letters, digits or inner hyphens, without "
                f"'aws', 'amazon' or 'cognito', got {prefix!r}"
            )


def check_partition(region: str) -> None:
    """Raise unless ``region`` (the stack's; a token passes) is in the commercial partition ``aws``.

    WebApp needs CloudFront with origin access control and Cognito user pools with a hosted UI domain and
    the Plus feature plan. AWS GovCloud (US) has no CloudFront; the China regions offer neither as this
    construct uses them (CloudFront there needs an ICP-licensed custom domain, and Cognito user pools with
    the hosted UI are not offered); the ISO partitions neither.

    Raises:
        ValueError: a region outside the ``aws`` partition (named, with its partition).
    """
    if is_token(region):
        return
    partition = RegionInfo.get(region).partition or "aws"
    if partition != "aws":
        raise ValueError(
            f"WebApp needs Amazon CloudFront and Amazon Cognito user pools (hosted UI, Plus feature plan), "
            f"which the stack's region {region!r} (partition {partition}) does not offer; deploy the web app "
            "in a commercial AWS region"
        )
