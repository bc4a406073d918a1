#!/usr/bin/env bash
# VideoShare on AWS in one command; the same command updates a running deployment.
#
#     deploy/aws/deploy.sh -c sender_email=contests@example.org [-c key=value ...] [cdk options]
#
# Needs AWS credentials the usual way (a profile, AWS_* variables, SSO), Docker running (the
# image is built on this machine), Node.js (the CDK command line) and Python 3.11+. Settings
# and their defaults: docs/DEPLOY.md.
set -euo pipefail

CDK_CLI_VERSION=2.1148.1
root=$(cd "$(dirname "$0")/../.." && pwd)

# The deploy extra (aws-cdk-lib, cdk-nag...) in the project's virtualenv.
make -C "$root" --no-print-directory .venv/bin/.installed-deploy
export PATH="$root/.venv/bin:$PATH"
cd "$root/deploy/aws"

cdk=(npx --yes "aws-cdk@$CDK_CLI_VERSION")
# Once per account and region, the CDK's staging bucket and image repository; quick when done.
"${cdk[@]}" bootstrap "$@"
# Builds and pushes the image, runs the migration task, then rolls out web and workers.
exec "${cdk[@]}" deploy --require-approval broadening "$@"
