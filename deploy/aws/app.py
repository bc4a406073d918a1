#!/usr/bin/env python3
"""VideoShare on AWS: the CDK app that `cdk deploy` runs (docs/DEPLOY.md)."""

import sys
from pathlib import Path

import aws_cdk as cdk

# The stack reads a few of the app's own constants (config/storage.py's key prefixes).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from videoshare_deploy.build import build_app  # noqa: E402

app = cdk.App()
build_app(app)
app.synth()
