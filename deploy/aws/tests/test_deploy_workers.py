"""The worker tier: scaled on the queue's backlog per task (metric math), protected from
scale-in while converting, started from zero when configured so."""

import pytest

pytestmark = pytest.mark.deploy


def worker_policy(synthesized) -> dict:
    policies = synthesized.of_type("AWS::ApplicationAutoScaling::ScalingPolicy")
    return policies["WorkerBacklogPerTask"]["Properties"]


def test_workers_scale_on_the_backlog_per_running_task(default):
    policy = worker_policy(default)
    assert policy["PolicyType"] == "TargetTrackingScaling"
    configuration = policy["TargetTrackingScalingPolicyConfiguration"]
    assert configuration["TargetValue"] == 2  # jobs waiting per worker task
    queries = {
        query["Id"]: query for query in configuration["CustomizedMetricSpecification"]["Metrics"]
    }
    queue = default.logical_id(default.stack.queue)
    queued = queries["queued"]["MetricStat"]["Metric"]
    assert queued["Namespace"] == "AWS/SQS"
    assert queued["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert queued["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
    ]
    tasks = queries["tasks"]["MetricStat"]["Metric"]
    assert (tasks["Namespace"], tasks["MetricName"]) == (
        "ECS/ContainerInsights",
        "RunningTaskCount",
    )
    service = default.logical_id(default.stack.worker_service)
    assert {"Name": "ServiceName", "Value": {"Fn::GetAtt": [service, "Name"]}} in tasks[
        "Dimensions"
    ]
    backlog = queries["backlog_per_task"]
    assert backlog["Expression"] == "queued / IF(tasks > 0, tasks, 1)"
    assert [query["ReturnData"] for query in queries.values()] == [False, False, True]


def test_the_policy_scales_the_worker_service_between_its_bounds(default):
    targets = default.of_type("AWS::ApplicationAutoScaling::ScalableTarget")
    target = targets[worker_policy(default)["ScalingTargetId"]["Ref"]]["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 4)
    assert target["ScalableDimension"] == "ecs:service:DesiredCount"
    service = default.logical_id(default.stack.worker_service)
    assert {"Fn::GetAtt": [service, "Name"]} in target["ResourceId"]["Fn::Join"][1]


def test_container_insights_gives_the_running_task_count(default):
    default.assertions().has_resource_properties(
        "AWS::ECS::Cluster",
        {"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]},
    )


def test_the_worker_runs_under_its_scale_in_protection(default, Match):
    default.assertions().has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "Cpu": "2048",
            "Memory": "4096",
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "Name": "worker",
                        "Command": [
                            "python",
                            "deploy/aws/runtime/protected_worker.py",
                            "celery",
                            "-A",
                            "config",
                            "worker",
                            "--loglevel",
                            "INFO",
                        ],
                        "StopTimeout": 120,
                        "Environment": [
                            {
                                "Name": "CONFIG_CONF",
                                "Value": Match.string_like_regexp("worker_concurrency = 1"),
                            }
                        ],
                    }
                )
            ],
        },
    )


def test_without_min_workers_nothing_starts_one_from_zero(default):
    assert not default.of_type("AWS::CloudWatch::Alarm").get("WorkerNeeded")
    steps = [
        policy
        for policy in default.of_type("AWS::ApplicationAutoScaling::ScalingPolicy").values()
        if policy["Properties"]["PolicyType"] == "StepScaling"
    ]
    assert steps == []


def test_with_zero_workers_a_waiting_job_starts_one(custom):
    targets = custom.of_type("AWS::ApplicationAutoScaling::ScalableTarget")
    worker_target = worker_policy(custom)["ScalingTargetId"]
    assert targets[worker_target["Ref"]]["Properties"]["MinCapacity"] == 0
    (start,) = [
        (name, policy["Properties"])
        for name, policy in custom.of_type("AWS::ApplicationAutoScaling::ScalingPolicy").items()
        if policy["Properties"]["PolicyType"] == "StepScaling"
    ]
    name, properties = start
    assert properties["ScalingTargetId"] == worker_target
    step = properties["StepScalingPolicyConfiguration"]
    assert step["AdjustmentType"] == "ChangeInCapacity"
    assert step["StepAdjustments"] == [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]
    alarm = next(
        item["Properties"]
        for item in custom.of_type("AWS::CloudWatch::Alarm").values()
        if item["Properties"].get("AlarmActions") == [{"Ref": name}]
    )
    expression = next(metric for metric in alarm["Metrics"] if "Expression" in metric)
    assert expression["Expression"] == "IF(queued > 0 AND taken == 0, 1, 0)"
    used = {
        metric["Id"]: metric["MetricStat"]["Metric"]["MetricName"]
        for metric in alarm["Metrics"]
        if "MetricStat" in metric
    }
    assert used == {
        "queued": "ApproximateNumberOfMessagesVisible",
        "taken": "ApproximateNumberOfMessagesNotVisible",
    }
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
    )


def test_arm_tasks_and_an_arm_image(custom, Match):
    custom.assertions().has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {"RuntimePlatform": {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}},
    )
    (image,) = custom_image_assets(custom)
    assert image["source"]["platform"] == "linux/arm64"


def custom_image_assets(synthesized) -> list[dict]:
    import json

    manifest = synthesized.outdir / f"{synthesized.stack.stack_name}.assets.json"
    return list(json.loads(manifest.read_text())["dockerImages"].values())
