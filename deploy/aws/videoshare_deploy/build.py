"""The CDK app's contents: the stack, configured by the context, and the checks run with it."""

import os

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from videoshare_deploy.settings import from_context
from videoshare_deploy.stack import VideoShareStack


def build_app(app: cdk.App) -> VideoShareStack:
    """Add the stack, configured by the app's context, and cdk-nag's AWS Solutions rules: a
    finding that is neither fixed nor acknowledged with a reason fails the synthesis."""
    settings = from_context(app)
    account = settings.account or os.environ.get("CDK_DEFAULT_ACCOUNT")
    stack = VideoShareStack(
        app,
        settings.stack_name,
        settings=settings,
        env=cdk.Environment(account=account, region=settings.region),
        description="VideoShare: video contests (web, workers, database, files, queue, mail)",
        termination_protection=settings.deletion_protection,
    )
    cdk.Tags.of(stack).add("project", "videoshare")
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
    )
    return stack
