"""One CloudWatch dashboard per stack and the stack's alarms (shapes from :mod:`monitoring_config`, pure).

Both need the names AWS gives the API and the function, so they are built from outputs. Alarm actions (and OK
actions) go to ``alarm_topic_arn`` when one is configured; without it the alarms still show their state on the
dashboard and in the console.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from . import monitoring_config
from .function import StackContext
from .settings import Settings


@dataclass(frozen=True)
class MonitoringResources:
    dashboard_url: pulumi.Output[str | None]
    alarms: list[aws.cloudwatch.MetricAlarm]


def _dimensions_of(
    settings: Settings, index: int
) -> Callable[[monitoring_config.MonitoredNames], dict[str, str]]:
    def dimensions(names: monitoring_config.MonitoredNames) -> dict[str, str]:
        return monitoring_config.alarm_specs(settings, names)[index].dimensions

    return dimensions


def create_monitoring(
    name: str,
    settings: Settings,
    context: StackContext,
    rest_api: aws.apigateway.RestApi,
    stage: aws.apigateway.Stage,
    function: aws.lambda_.Function,
    parent: pulumi.Resource,
) -> MonitoringResources:
    """The dashboard (with ``dashboard``) and the four alarms (with ``alarms``)."""
    opts = pulumi.ResourceOptions(parent=parent)
    names = pulumi.Output.all(context.region, rest_api.name, stage.stage_name, function.name).apply(
        lambda values: monitoring_config.MonitoredNames(*(str(value) for value in values))
    )
    dashboard_url: pulumi.Output[str | None] = pulumi.Output.from_input(None)
    if settings.dashboard:
        dashboard_name = monitoring_config.dashboard_name(pulumi.get_project(), pulumi.get_stack(), name)
        aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=dashboard_name,
            dashboard_body=names.apply(
                lambda resolved: json.dumps(monitoring_config.dashboard_body(settings, resolved), sort_keys=True)
            ),
            opts=opts,
        )
        dashboard_url = context.region.apply(lambda region: monitoring_config.dashboard_url(region, dashboard_name))
    alarms: list[aws.cloudwatch.MetricAlarm] = []
    if settings.alarms:
        actions = [settings.alarm_topic_arn] if settings.alarm_topic_arn else None
        # The specs' shape does not depend on the names, only their dimension values do: build them once plainly
        # for the resource list, and take each dimension map from the resolved names.
        placeholder = monitoring_config.MonitoredNames("", "", "", "")
        for index, spec in enumerate(monitoring_config.alarm_specs(settings, placeholder)):
            dimensions = names.apply(_dimensions_of(settings, index))
            alarms.append(
                aws.cloudwatch.MetricAlarm(
                    f"{name}-alarm-{spec.key}",
                    alarm_description=spec.description,
                    namespace=spec.namespace,
                    metric_name=spec.metric_name,
                    dimensions=dimensions,
                    statistic=spec.statistic,
                    extended_statistic=spec.extended_statistic,
                    period=spec.period,
                    evaluation_periods=spec.evaluation_periods,
                    datapoints_to_alarm=spec.datapoints_to_alarm,
                    threshold=spec.threshold,
                    comparison_operator=spec.comparison,
                    # No traffic is not a failure.
                    treat_missing_data="notBreaching",
                    alarm_actions=actions,
                    ok_actions=actions,
                    opts=opts,
                )
            )
    return MonitoringResources(dashboard_url=dashboard_url, alarms=alarms)
