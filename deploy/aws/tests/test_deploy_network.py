"""The network: two zones, three tiers of subnets, endpoints instead of NAT traffic, no SSH."""

import pytest

pytestmark = pytest.mark.deploy


def ref(synthesized, construct) -> dict:
    return {"Ref": synthesized.logical_id(construct)}


def subnet_refs(synthesized, subnets) -> list[dict]:
    return [ref(synthesized, subnet) for subnet in subnets]


def test_two_zones_with_public_private_and_isolated_subnets(default):
    subnets = default.of_type("AWS::EC2::Subnet").values()
    zones = sorted(subnet["Properties"]["AvailabilityZone"] for subnet in subnets)
    assert zones == ["us-east-1a"] * 3 + ["us-east-1b"] * 3
    vpc = default.stack.vpc
    assert len(vpc.public_subnets) == len(vpc.private_subnets) == len(vpc.isolated_subnets) == 2
    public = [
        subnet["Properties"] for subnet in subnets if subnet["Properties"]["MapPublicIpOnLaunch"]
    ]
    assert len(public) == 2
    default.assertions().resource_count_is("AWS::EC2::NatGateway", 1)


def test_the_zones_come_from_the_settings(custom):
    zones = {
        s["Properties"]["AvailabilityZone"] for s in custom.of_type("AWS::EC2::Subnet").values()
    }
    assert zones == {"eu-west-1a", "eu-west-1b"}


def test_no_ssh_no_bastion_no_instance_at_all(default):
    template = default.assertions()
    template.resource_count_is("AWS::EC2::Instance", 0)
    template.resource_count_is("AWS::AutoScaling::AutoScalingGroup", 0)
    rules = [
        rule["Properties"] for rule in default.of_type("AWS::EC2::SecurityGroupIngress").values()
    ]
    for group in default.of_type("AWS::EC2::SecurityGroup").values():
        rules += group["Properties"].get("SecurityGroupIngress", [])
    assert rules
    for rule in rules:
        assert rule["IpProtocol"] == "tcp", f"all ports open: {rule}"
        assert not rule["FromPort"] <= 22 <= rule["ToPort"], f"port 22 open: {rule}"


def test_a_shell_in_a_task_goes_through_session_manager(default):
    for service in (default.stack.web_service, default.stack.worker_service):
        task = {"Ref": default.logical_id(service.task_definition)}
        default.assertions().has_resource_properties(
            "AWS::ECS::Service", {"EnableExecuteCommand": True, "TaskDefinition": task}
        )


def test_s3_sqs_and_secrets_manager_are_reached_without_the_nat(default):
    template = default.assertions()
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "VpcEndpointType": "Gateway",
            "ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]},
        },
    )
    private = subnet_refs(default, default.stack.vpc.private_subnets)
    for service in ("sqs", "secretsmanager"):
        template.has_resource_properties(
            "AWS::EC2::VPCEndpoint",
            {
                "VpcEndpointType": "Interface",
                "ServiceName": f"com.amazonaws.us-east-1.{service}",
                "PrivateDnsEnabled": True,
                "SubnetIds": private,
            },
        )


def test_tasks_run_in_private_subnets_without_public_addresses(default):
    private = subnet_refs(default, default.stack.vpc.private_subnets)
    for service in default.of_type("AWS::ECS::Service").values():
        network = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "DISABLED"
        assert network["Subnets"] == private


def test_the_database_is_in_the_isolated_subnets_and_not_public(default):
    isolated = subnet_refs(default, default.stack.vpc.isolated_subnets)
    template = default.assertions()
    template.has_resource_properties("AWS::RDS::DBSubnetGroup", {"SubnetIds": isolated})
    template.has_resource_properties(
        "AWS::RDS::DBInstance", {"PubliclyAccessible": False, "StorageEncrypted": True}
    )


def test_the_database_admits_the_tasks_only(default):
    database_group = default.logical_id(default.stack.database_sg)
    rules = [
        rule["Properties"]
        for rule in default.of_type("AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"]["GroupId"] == {"Fn::GetAtt": [database_group, "GroupId"]}
    ]
    sources = {rule["SourceSecurityGroupId"]["Fn::GetAtt"][0] for rule in rules}
    groups = ("WebSecurityGroup", "WorkerSecurityGroup", "MigrateSecurityGroup")
    assert sources == {default.logical_id(default.stack.node.find_child(name)) for name in groups}
    assert {rule["FromPort"] for rule in rules} == {3306}
    assert not default.of_type("AWS::EC2::SecurityGroup")[database_group]["Properties"].get(
        "SecurityGroupIngress"
    )
