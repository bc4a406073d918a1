"""Least privilege: each tier's role names the bucket prefixes, the queue, the secret and the
sender it uses, and nothing with a wildcard it could do without."""

import json

import pytest
from videoshare_deploy.layout import ALL_PREFIXES, MOVED_PREFIXES, ORIGINALS_PREFIX

pytestmark = pytest.mark.deploy

# The only actions allowed on any resource ("*"): they have no resource-level permissions.
UNSCOPED = {
    "ecr:GetAuthorizationToken",  # the execution role's login to the registry
    "ssmmessages:CreateControlChannel",  # ECS Exec, instead of SSH
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ec2:DescribeSecurityGroups",  # the CDK's VPC default-security-group cleaner
}


def allowed(synthesized, role) -> list[dict]:
    """The Allow statements of a role's policies, actions as lists."""
    statements = []
    for policy in synthesized.of_type("AWS::IAM::Policy").values():
        properties = policy["Properties"]
        if {"Ref": synthesized.logical_id(role)} in properties["Roles"]:
            for statement in properties["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                statement = {
                    **statement,
                    "Action": [actions] if isinstance(actions, str) else actions,
                }
                statements.append(statement)
    return [statement for statement in statements if statement["Effect"] == "Allow"]


def object_grants(synthesized, role) -> dict[str, set[str]]:
    """prefix -> the S3 object actions the role has under it."""
    media = synthesized.logical_id(synthesized.stack.media)
    grants: dict[str, set[str]] = {}
    for statement in allowed(synthesized, role):
        resources = statement["Resource"]
        for resource in resources if isinstance(resources, list) else [resources]:
            parts = resource.get("Fn::Join", ["", []])[1] if isinstance(resource, dict) else []
            if parts[:1] == [{"Fn::GetAtt": [media, "Arn"]}]:
                prefix = parts[1].removeprefix("/").removesuffix("*")
                grants.setdefault(prefix, set()).update(statement["Action"])
    return grants


def actions_on(synthesized, role, resource) -> set[str]:
    return {
        action
        for statement in allowed(synthesized, role)
        if statement["Resource"] == resource
        for action in statement["Action"]
    }


def test_no_full_access_and_no_action_wildcard_anywhere(default):
    text = json.dumps(default.template)
    assert "FullAccess" not in text
    for policy in default.of_type("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                assert action != "*" and not action.endswith(":*"), statement
    for role in default.of_type("AWS::IAM::Role").values():
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert "AWSLambdaBasicExecutionRole" in json.dumps(arn)  # logs of a function only


def test_actions_on_every_resource_are_the_few_without_resource_permissions(default):
    unscoped = {
        action
        for policy in default.of_type("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Allow" and statement["Resource"] == "*"
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }
    assert unscoped <= UNSCOPED


def test_the_web_role_works_on_every_prefix_of_the_bucket_and_no_more(default):
    grants = object_grants(default, default.stack.roles["web"])
    assert set(grants) == set(ALL_PREFIXES)  # never bucket/*
    for prefix in ALL_PREFIXES:
        assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"} <= grants[prefix]
    for prefix in MOVED_PREFIXES:  # hiding moves files: copies keep no tags of their own
        assert {"s3:GetObjectTagging", "s3:PutObjectTagging"} <= grants[prefix]


def test_the_worker_reads_originals_and_writes_only_videos_and_posters(default):
    grants = object_grants(default, default.stack.roles["worker"])
    assert grants[ORIGINALS_PREFIX] == {"s3:GetObject"}  # never writes or deletes an upload
    assert "banners/" not in grants
    assert set(grants) == {ORIGINALS_PREFIX, *MOVED_PREFIXES}
    for prefix in MOVED_PREFIXES:
        assert "s3:PutObject" in grants[prefix]


def test_queue_rights_follow_the_tier(default):
    queue = {"Fn::GetAtt": [default.logical_id(default.stack.queue), "Arn"]}
    web = actions_on(default, default.stack.roles["web"], queue)
    worker = actions_on(default, default.stack.roles["worker"], queue)
    assert web == {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= worker
    assert "sqs:SetQueueAttributes" not in worker | web  # the stack sets the visibility


def test_each_tier_reads_only_the_configuration_secret(default):
    secret = {"Ref": default.logical_id(default.stack.secret)}
    for tier, role in default.stack.roles.items():
        reads = [
            statement
            for statement in allowed(default, role)
            if any(action.startswith("secretsmanager:") for action in statement["Action"])
        ]
        assert len(reads) == 1, tier
        assert reads[0]["Resource"] == secret
        assert set(reads[0]["Action"]) == {
            "secretsmanager:GetSecretValue",
            "secretsmanager:DescribeSecret",
        }


def test_mail_goes_out_as_the_sender_identity_only(default):
    identity = default.logical_id(default.stack.identity)
    for tier in ("web", "worker"):
        (send,) = [
            statement
            for statement in allowed(default, default.stack.roles[tier])
            if "ses:SendEmail" in statement["Action"]
        ]
        assert json.dumps({"Ref": identity}) in json.dumps(send["Resource"])
        assert "*" not in json.dumps(send["Resource"])
    assert not any(
        "ses:" in action
        for statement in allowed(default, default.stack.roles["migrate"])
        for action in statement["Action"]
    )


def test_only_the_web_invalidates_cloudfront_and_only_its_distribution(default):
    distribution = json.dumps({"Ref": default.logical_id(default.stack.distribution)})
    for tier, role in default.stack.roles.items():
        invalidations = [
            statement
            for statement in allowed(default, role)
            if "cloudfront:CreateInvalidation" in statement["Action"]
        ]
        if tier == "web":
            (statement,) = invalidations
            assert distribution in json.dumps(statement["Resource"])
        else:
            assert invalidations == []


def test_the_migration_step_may_run_only_the_migration_task(default):
    handler = default.stack.migration_handlers["on_event"]
    (run,) = [s for s in allowed(default, handler.role) if "ecs:RunTask" in s["Action"]]
    assert run["Resource"] == {"Ref": default.logical_id(default.stack.task_definitions["migrate"])}
    cluster = {"Fn::GetAtt": [default.logical_id(default.stack.cluster), "Arn"]}
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": cluster}}
