"""cdk-nag's AWS Solutions findings that this design keeps, each acknowledged with its reason.

Everything else the rules ask for is done in the stack (encryption, TLS-only buckets and queues,
access logs, flow logs, a dead-letter queue, Container Insights, private subnets, no public
database, least-privilege roles). An unacknowledged finding fails the synthesis (`cdk synth`,
`cdk deploy`, `make deploy-check`).
"""

import aws_cdk as cdk
from constructs import Construct

from videoshare_deploy.layout import ALL_PREFIXES, MOVED_PREFIXES, ORIGINALS_PREFIX
from videoshare_deploy.settings import Settings

LAMBDA_BASIC_ROLE = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AWSLambdaBasicExecutionRole]"
)


def acknowledge(stack) -> None:
    s: Settings = stack.settings

    def ack(construct: Construct, rule: str, reason: str) -> None:
        cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))

    def arn_of(construct: Construct) -> str:
        return f"<{stack.get_logical_id(construct.node.default_child)}.Arn>"

    # ---- the public entry
    ack(
        stack.alb,
        "AwsSolutions-EC23",
        "The load balancer is the site's public entry: HTTP and HTTPS from anyone (HTTP only "
        "redirects when a certificate is configured). The tasks admit the load balancer alone.",
    )
    ack(
        stack.distribution,
        "AwsSolutions-CFR1",
        "Contests are open to participants anywhere: no country is excluded.",
    )
    ack(
        stack.distribution,
        "AwsSolutions-CFR2",
        "The distribution serves public static files (videos, posters, banners) from S3, with "
        "no application behind it for a WAF to protect; uploads and sign-ups go through the "
        "load balancer to the app, which limits them (docs/SECURITY.md).",
    )
    ack(
        stack.distribution,
        "AwsSolutions-CFR4",
        "The media host is the distribution's own *.cloudfront.net name, whose certificate and "
        "TLS policy CloudFront manages; a TLS 1.2 minimum needs a domain of our own with an ACM "
        "certificate in us-east-1 for the media host. The files served are public.",
    )
    ack(
        stack.distribution,
        "Annotation::@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac",
        "On purpose: the origin names the bucket by reference so that CloudFront is not granted "
        "the whole bucket; the bucket's policy grants it the public prefixes only.",
    )

    # ---- secrets
    ack(
        stack.secret,
        "AwsSolutions-SMG4",
        "The configuration secret holds settings and copies that each deploy writes (rds_pass, "
        "secret_key); it is not a credential of its own to rotate.",
    )
    ack(
        stack.database,
        "AwsSolutions-SMG4",
        "The app reads the database password from the configuration secret (rds_pass, as in the "
        "original deployment), which takes it at deploy time: an automatic rotation would leave "
        "the tasks with an old password. Rotate by deploying (docs/DEPLOY.md).",
    )
    ack(
        stack.node.find_child("SecretKey"),
        "AwsSolutions-SMG4",
        "Django's secret_key signs sessions and emailed links: rotating it signs every organizer "
        "out and voids links already sent, so it is changed by hand, not on a schedule.",
    )

    # ---- database
    ack(
        stack.database,
        "AwsSolutions-RDS11",
        "Another port would hide nothing: the database is in isolated subnets and admits only "
        "the security groups of the web, worker and migration tasks.",
    )
    if not s.db_multi_az:
        ack(
            stack.database,
            "AwsSolutions-RDS3",
            "Single-AZ by default to halve the database's cost; db_multi_az=true makes it "
            "Multi-AZ (docs/DEPLOY.md). Backups and snapshots are kept either way.",
        )
    if not s.deletion_protection:
        ack(
            stack.database,
            "AwsSolutions-RDS10",
            "deletion_protection=false was set to tear the stack down (docs/DEPLOY.md); a "
            "final snapshot is still taken.",
        )

    # ---- tasks
    for name, definition in stack.task_definitions.items():
        ack(
            definition,
            "AwsSolutions-ECS2",
            "The one variable, CONFIG_CONF, is config.conf: the secret's name and region and "
            "the tier's sizes. Secrets stay in Secrets Manager, read by the app.",
        )
        ack(
            definition,
            "AwsSolutions-IAM5[Resource::*]",
            "The execution role's ecr:GetAuthorizationToken has no resource-level permission "
            "(pulling the image itself is limited to its repository).",
        )
        role = stack.roles[name]
        if name != "migrate":
            ack(
                role,
                "AwsSolutions-IAM5[Resource::*]",
                "ECS Exec (a shell through Session Manager instead of SSH): the ssmmessages "
                "channel actions have no resource-level permissions.",
            )
    prefix_reason = (
        "Objects under the key prefixes this tier works on, and no others: keys are made per "
        "entry (originals/<id>.avi, videos/<id>.mp4, posters/<id>.jpg, banners/<slug>-…, "
        "hidden/videos/<id>.mp4), so a prefix is the narrowest grant that names them."
    )
    media = arn_of(stack.media)
    grants = {"web": ALL_PREFIXES, "worker": (ORIGINALS_PREFIX, *MOVED_PREFIXES)}
    for name, prefixes in grants.items():
        for prefix in prefixes:
            ack(stack.roles[name], f"AwsSolutions-IAM5[Resource::{media}/{prefix}*]", prefix_reason)

    # ---- the migration step (a CloudFormation custom resource)
    handlers = stack.migration_handlers
    for handler in handlers.values():
        ack(
            handler,
            LAMBDA_BASIC_ROLE,
            "AWSLambdaBasicExecutionRole lets the function write its own logs, nothing more.",
        )
    cluster = stack.get_logical_id(stack.cluster.node.default_child)
    ack(
        handlers["is_complete"],
        f"AwsSolutions-IAM5[Resource::arn:aws:ecs:{stack.region}:<AWS::AccountId>:task/"
        f"<{cluster}>/*]",
        "DescribeTasks names a task that exists only once RunTask started it; the grant is "
        "limited to the tasks of the stack's cluster.",
    )
    provider = stack.migration_provider
    ack(provider, LAMBDA_BASIC_ROLE, "The CDK's custom-resource framework functions' logs.")
    for function in (*handlers.values(), *_framework_functions(provider)):
        ack(
            provider,
            f"AwsSolutions-IAM5[Resource::{arn_of(function)}:*]",
            "The CDK's custom-resource framework invokes the versions of its own functions.",
        )
    ack(
        provider,
        "AwsSolutions-SF1",
        "The CDK framework's waiter only polls is_complete, whose calls and errors are in its "
        "log group; logging the state machine too would need log-delivery rights on all log "
        "groups (Resource *).",
    )
    ack(
        provider,
        "AwsSolutions-SF2",
        "The waiter's single step is traced through its Lambda function's logs; X-Ray adds "
        "nothing to one polling loop.",
    )


def _framework_functions(provider) -> list[Construct]:
    return [
        provider.node.find_child(name)
        for name in ("framework-isComplete", "framework-onTimeout")
        if provider.node.try_find_child(name) is not None
    ]
