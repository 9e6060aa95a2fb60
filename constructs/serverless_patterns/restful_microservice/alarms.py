"""The API's own alarms (5XX rate, p99 latency); each also rolls back the function's deployment."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

from constructs import Construct
from serverless_patterns.core.alarms import alarm_name, duration_threshold
from serverless_patterns.core.validation import is_token
from serverless_patterns.function import ServerlessFunction
from serverless_patterns.restful_microservice.settings import ApiSettings


def api_alarms(
    scope: Construct, settings: ApiSettings, *, api_name: str, function: ServerlessFunction
) -> list[cloudwatch.Alarm]:
    """Alarms on the API's 5XX rate and p99 latency, added to ``function``'s rollback alarms."""
    # Dimensions by name, not by reference: a Ref to the stage would make the alarms depend on the
    # API deployment, which depends on the alias, which CodeDeploy (and so these alarms) updates.
    dimensions = {"ApiName": api_name, "Stage": settings.stage_name}
    one_minute = Duration.minutes(1)
    rate = settings.max_server_error_rate
    server_errors = cloudwatch.Alarm(
        scope,
        "ServerErrorRateAlarm",
        alarm_name=alarm_name(scope, "API 5XX rate"),
        alarm_description=f"More than {rate:.1%} of API requests in a minute ended in 5XX."
        if not is_token(rate)
        else "Too many API requests in a minute ended in 5XX.",
        metric=cloudwatch.Metric(
            namespace="AWS/ApiGateway",
            metric_name="5XXError",
            dimensions_map=dimensions,
            period=one_minute,
            statistic="Average",
        ),
        threshold=rate,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    latency_metric, latency_threshold = duration_threshold(
        "max_latency_p99",
        cloudwatch.Metric(
            namespace="AWS/ApiGateway",
            metric_name="Latency",
            dimensions_map=dimensions,
            period=one_minute,
            statistic="p99",
        ),
        settings.max_latency_p99,
    )
    latency = cloudwatch.Alarm(
        scope,
        "LatencyAlarm",
        alarm_name=alarm_name(scope, "API p99 latency"),
        alarm_description="p99 latency of the API above the agreed maximum for 2 minutes.",
        metric=latency_metric,
        threshold=latency_threshold,
        evaluation_periods=2,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    # They notify but do not roll back: they also count the old version's traffic during a canary, so the
    # function's per-version alarms judge the new version instead (a server fault is a function error).
    return [server_errors, latency]
