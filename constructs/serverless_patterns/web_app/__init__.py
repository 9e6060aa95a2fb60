"""``WebApp``: CloudFront + a private S3 site, Cognito sign-in, and a ``RestfulMicroservice`` backend."""

from serverless_patterns.web_app.construct import WebApp

__all__ = ["WebApp"]
