"""``RestfulMicroservice`` (API Gateway REST -> Lambda ``live`` alias -> DynamoDB) and its value objects."""

from serverless_patterns.restful_microservice.construct import RestfulMicroservice
from serverless_patterns.restful_microservice.options import (
    DEFAULT_ROUTES,
    ApiKeyUsagePlan,
    Authorization,
    Route,
)

__all__ = ["DEFAULT_ROUTES", "ApiKeyUsagePlan", "Authorization", "RestfulMicroservice", "Route"]
