"""The AWS deployment, synthesized once per test session, offline, into deploy/aws/cdk.out.

`make deploy-check` installs the deploy extra and runs these tests. Without aws-cdk-lib they
skip with the reason (and fail in CI, where every test must run). The runtime pieces (the
entrypoint, the worker's scale-in protection, the migration handler) need no CDK.
"""

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import unavailable

AWS_DIR = Path(__file__).resolve().parents[1]  # deploy/aws
ROOT = AWS_DIR.parents[1]
OUTDIR = AWS_DIR / "cdk.out"
sys.path.insert(0, str(AWS_DIR))  # the CDK app's own package, as `cdk` runs it from there

# Node 20 runs the CDK (jsii) fine; its end-of-life notice would only fill the output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

SENDER = "contests@example.org"
STACK = "VideoShare"


def require_cdk():
    try:
        import aws_cdk
        import cdk_nag  # noqa: F401
    except ImportError:
        unavailable("aws-cdk-lib and cdk-nag are not installed (make deploy-check installs them)")
    return aws_cdk


def cdk_json_context() -> dict:
    """The context `cdk synth` and `cdk deploy` use: cdk.json's, as committed."""
    return json.loads((AWS_DIR / "cdk.json").read_text())["context"]


@dataclass
class Synthesized:
    stack: object  # the VideoShareStack
    template: dict  # the CloudFormation template, as written to the cloud assembly
    outdir: Path

    @property
    def resources(self) -> dict:
        return self.template["Resources"]

    def of_type(self, kind: str) -> dict:
        return {name: item for name, item in self.resources.items() if item["Type"] == kind}

    def one(self, kind: str) -> dict:
        found = self.of_type(kind)
        assert len(found) == 1, f"{len(found)} resources of type {kind}"
        return next(iter(found.values()))

    def logical_id(self, construct) -> str:
        return self.stack.get_logical_id(construct.node.default_child)

    def assertions(self):
        from aws_cdk.assertions import Template

        return Template.from_json(self.template)


def synthesize(outdir: Path, **context) -> Synthesized:
    """The app as app.py builds it, with cdk.json's context plus `context`, cdk-nag included:
    a finding neither fixed nor acknowledged fails here."""
    cdk = require_cdk()
    from videoshare_deploy.build import build_app

    shutil.rmtree(outdir, ignore_errors=True)
    app = cdk.App(outdir=str(outdir), context={**cdk_json_context(), **context})
    stack = build_app(app)
    app.synth()
    template = json.loads((outdir / f"{stack.stack_name}.template.json").read_text())
    return Synthesized(stack=stack, template=template, outdir=outdir)


@pytest.fixture(scope="session")
def Match():  # noqa: N802 - the CDK's name, so the assertions read as in its documentation
    require_cdk()
    from aws_cdk.assertions import Match

    return Match


@pytest.fixture(scope="session")
def default() -> Synthesized:
    """The default size, as `cdk deploy -c sender_email=...` would deploy it."""
    return synthesize(OUTDIR, sender_email=SENDER)


@pytest.fixture(scope="session")
def custom(tmp_path_factory) -> Synthesized:
    """Every option the other way: a domain with its certificate and DNS zone, PostgreSQL,
    Multi-AZ, workers down to zero, ARM, no deletion protection (to tear down)."""
    return synthesize(
        tmp_path_factory.mktemp("cdk") / "cdk.out",
        sender_email="contests@videos.example.org",
        ses_identity="videos.example.org",
        stack_name="VideoShareCustom",
        secret_name="videoshare/staging/config",
        domain_name="videos.example.org",
        certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/abc",
        hosted_zone_id="Z0123456789ABCDEFGHIJ",
        hosted_zone_name="example.org",
        region="eu-west-1",
        availability_zones="eu-west-1a,eu-west-1b",
        db_engine="postgresql",
        db_multi_az="true",
        worker_min="0",
        worker_max="8",
        cpu_architecture="arm64",
        deletion_protection="false",
        convert_timeout="3600",
        alarm_email="ops@example.org",
        splunk_api_url="splunk.example.org",
        splunk_token_secret="videoshare/staging/splunk",
    )
