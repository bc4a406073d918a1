"""Migrations once per deploy, logs and alarms."""

import pytest

pytestmark = pytest.mark.deploy


def test_one_migration_task_per_deploy_before_the_services(default, Match):
    template = default.assertions()
    migrate = default.logical_id(default.stack.task_definitions["migrate"])
    template.has_resource_properties(
        "Custom::VideoShareMigration",
        {"TaskDefinition": {"Ref": migrate}, "Container": "migrate"},
    )
    (migration,) = default.of_type("Custom::VideoShareMigration")
    for service in (default.stack.web_service, default.stack.worker_service):
        depends = default.resources[default.logical_id(service)]["DependsOn"]
        assert migration in depends  # new code starts only on a migrated schema
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "ContainerDefinitions": [
                Match.object_like(
                    {"Name": "migrate", "Command": ["python", "manage.py", "migrate", "--noinput"]}
                )
            ]
        },
    )


def test_no_web_or_worker_task_migrates_when_it_starts(default):
    for tier in ("web", "worker"):
        definition = default.resources[default.logical_id(default.stack.task_definitions[tier])]
        (container,) = definition["Properties"]["ContainerDefinitions"]
        assert "migrate" not in " ".join(container["Command"])


def test_the_migration_waits_for_the_task_and_its_resources(default):
    (name,) = default.of_type("Custom::VideoShareMigration")
    depends = set(default.resources[name]["DependsOn"])
    needed = [
        default.stack.database,
        default.stack.secret,
        default.stack.roles["migrate"],
    ]
    assert {default.logical_id(construct) for construct in needed} <= depends
    nat_routes = [
        route
        for route, item in default.of_type("AWS::EC2::Route").items()
        if "NatGatewayId" in item["Properties"]
    ]
    assert set(nat_routes) <= depends  # the image is pulled through them


def test_every_task_logs_to_cloudwatch_with_a_retention(default):
    groups = default.of_type("AWS::Logs::LogGroup")
    for tier, definition in default.stack.task_definitions.items():
        resource = default.resources[default.logical_id(definition)]
        (container,) = resource["Properties"]["ContainerDefinitions"]
        logging = container["LogConfiguration"]
        assert logging["LogDriver"] == "awslogs"
        assert logging["Options"]["awslogs-stream-prefix"] == tier
        group = logging["Options"]["awslogs-group"]["Ref"]
        assert groups[group]["Properties"]["RetentionInDays"] == 30


def alarms_by_metric(synthesized) -> dict[str, dict]:
    found = {}
    for alarm in synthesized.of_type("AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        names = [properties.get("MetricName")] + [
            metric["MetricStat"]["Metric"]["MetricName"]
            for metric in properties.get("Metrics", [])
            if "MetricStat" in metric
        ]
        for name in filter(None, names):
            found.setdefault(name, properties)
    return found


def test_alarms_on_5xx_rate_queue_age_and_dead_letters_reach_the_topic(default):
    alarms = alarms_by_metric(default)
    topic = {"Ref": next(iter(default.of_type("AWS::SNS::Topic")))}

    errors = alarms["HTTPCode_Target_5XX_Count"]
    (expression,) = [metric for metric in errors["Metrics"] if "Expression" in metric]
    assert "/ requests" in expression["Expression"]
    assert {"RequestCount", "HTTPCode_ELB_5XX_Count"} <= {
        metric["MetricStat"]["Metric"]["MetricName"]
        for metric in errors["Metrics"]
        if "MetricStat" in metric
    }
    assert errors["Threshold"] == 5

    age = alarms["ApproximateAgeOfOldestMessage"]
    queue = default.logical_id(default.stack.queue)
    assert age["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
    ]
    assert age["Threshold"] == 60 * 60

    dead = alarms["ApproximateNumberOfMessagesVisible"]
    dead_letters = default.logical_id(default.stack.dead_letters)
    assert dead["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_letters, "QueueName"]}}
    ]
    assert (dead["Threshold"], dead["ComparisonOperator"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
    )
    for alarm in (errors, age, dead, alarms["HealthyHostCount"]):
        assert alarm["AlarmActions"] == [topic]


def test_alarms_are_emailed_when_an_address_is_given(default, custom):
    default.assertions().resource_count_is("AWS::SNS::Subscription", 0)
    custom.assertions().has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.org"}
    )


def test_splunk_stays_optional(default):
    secret = default.resources[default.logical_id(default.stack.secret)]
    text = "".join(
        p for p in secret["Properties"]["SecretString"]["Fn::Join"][1] if isinstance(p, str)
    )
    assert '"splunk_api_url":""' in text  # unset: the app sends no events there


def test_the_data_outlives_the_stack(default, custom):
    default.assertions().has_resource("AWS::S3::Bucket", {"DeletionPolicy": "Retain"})
    default.assertions().has_resource("AWS::RDS::DBInstance", {"DeletionPolicy": "Snapshot"})
    assert default.stack.termination_protection is True
    assert custom.stack.termination_protection is False  # deletion_protection=false to tear down
