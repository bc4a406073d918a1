"""The web tier: the load balancer, HTTPS, the health check, CPU scaling, and the keys the app
takes its HTTPS and proxy settings from."""

import json

import pytest

from config import loader

pytestmark = pytest.mark.deploy


def listeners(synthesized) -> dict[int, dict]:
    items = synthesized.of_type("AWS::ElasticLoadBalancingV2::Listener").values()
    return {item["Properties"]["Port"]: item["Properties"] for item in items}


def secret_text(synthesized) -> str:
    """The configuration secret's JSON, tokens written as their CloudFormation form."""
    secret = synthesized.resources[synthesized.logical_id(synthesized.stack.secret)]
    parts = secret["Properties"]["SecretString"]["Fn::Join"][1]
    return "".join(part if isinstance(part, str) else json.dumps(part) for part in parts)


def config_conf(synthesized, tier: str) -> str:
    definition = synthesized.resources[
        synthesized.logical_id(synthesized.stack.task_definitions[tier])
    ]
    (container,) = definition["Properties"]["ContainerDefinitions"]
    (variable,) = container["Environment"]
    assert variable["Name"] == "CONFIG_CONF"
    return variable["Value"]


def test_a_public_load_balancer_forwards_http_to_the_web_port(default, Match):
    template = default.assertions()
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {"Scheme": "internet-facing", "Type": "application"},
    )
    assert set(listeners(default)) == {80}
    assert listeners(default)[80]["DefaultActions"][0]["Type"] == "forward"
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {
            "Port": 8080,
            "Protocol": "HTTP",
            "TargetType": "ip",
            "HealthCheckPath": "/health",
            "Matcher": {"HttpCode": "200"},
            "TargetGroupAttributes": Match.array_with(
                [{"Key": "deregistration_delay.timeout_seconds", "Value": "90"}]
            ),
        },
    )


def test_with_a_certificate_http_redirects_to_https(custom):
    ports = listeners(custom)
    assert set(ports) == {80, 443}
    redirect = ports[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    assert redirect["RedirectConfig"]["StatusCode"] == "HTTP_301"
    assert ports[443]["Protocol"] == "HTTPS"
    assert ports[443]["Certificates"] == [
        {"CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc"}
    ]
    custom.assertions().has_resource_properties(
        "AWS::Route53::RecordSet",
        {"Name": "videos.example.org.", "Type": "A", "HostedZoneId": "Z0123456789ABCDEFGHIJ"},
    )


def test_web_url_is_https_only_when_the_balancer_ends_tls(default, custom):
    # The app takes secure cookies, redirects and HSTS from web_url's scheme.
    assert '"web_url":"https://videos.example.org"' in secret_text(custom)
    assert '"web_url":"http://{"Fn::GetAtt": ["LoadBalancer' in secret_text(default)


def test_forwarded_headers_are_believed_from_the_balancer_subnets_only(default):
    public = [subnet.ipv4_cidr_block for subnet in default.stack.vpc.public_subnets]
    assert public == ["10.20.0.0/24", "10.20.1.0/24"]
    assert f'"forwarded_allow_ips":"{",".join(public)}"' in secret_text(default)


def test_web_tasks_admit_the_load_balancer_alone(default):
    web_group = default.logical_id(default.stack.node.find_child("WebSecurityGroup"))
    rules = [
        rule["Properties"]
        for rule in default.of_type("AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"]["GroupId"] == {"Fn::GetAtt": [web_group, "GroupId"]}
    ]
    assert len(rules) == 1
    (balancer_group,) = default.stack.alb.connections.security_groups
    assert rules[0]["SourceSecurityGroupId"] == {
        "Fn::GetAtt": [default.logical_id(balancer_group), "GroupId"]
    }
    assert (rules[0]["FromPort"], rules[0]["ToPort"]) == (8080, 8080)


def test_the_web_tier_scales_on_cpu_between_its_bounds(default, Match):
    template = default.assertions()
    service = default.logical_id(default.stack.web_service)
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "MinCapacity": 2,
            "MaxCapacity": 6,
            "ResourceId": Match.object_like(
                {"Fn::Join": ["", Match.array_with([{"Fn::GetAtt": [service, "Name"]}])]}
            ),
        },
    )
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
                },
                "TargetValue": 60,
                "ScaleInCooldown": 300,
                "ScaleOutCooldown": 60,
            },
        },
    )


def test_the_web_container_serves_on_its_port_and_reads_config_conf(default, Match, tmp_path):
    template = default.assertions()
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "Cpu": "512",
            "Memory": "1024",
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "Name": "web",
                        "Command": ["gunicorn", "config.asgi:application"],
                        "PortMappings": [Match.object_like({"ContainerPort": 8080})],
                        "StopTimeout": 120,
                    }
                )
            ],
        },
    )
    (tmp_path / "config.conf").write_text(config_conf(default, "web"))
    values = loader.read_config_file(tmp_path / "config.conf")  # as the app reads it
    assert values["secret_name"] == default.stack.settings.secret_name
    assert values["secret_region"] == "us-east-1"
    assert values["web_workers"] == "2"


def test_the_web_deploys_roll_back_on_failure(default, Match):
    default.assertions().has_resource_properties(
        "AWS::ECS::Service",
        {
            "DeploymentConfiguration": {
                "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
                "MinimumHealthyPercent": 100,
                "MaximumPercent": 200,
            },
            "LoadBalancers": [Match.object_like({"ContainerName": "web", "ContainerPort": 8080})],
        },
    )
