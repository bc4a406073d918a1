"""The synthesized app as a whole: offline, cdk-nag's AWS Solutions rules, cfn-lint, and the
image's build context."""

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[3]

# Every AWS Solutions rule the design keeps, acknowledged with a reason in videoshare_deploy/nag.py.
ACKNOWLEDGED = {
    "AwsSolutions-EC23",  # the load balancer is public
    "AwsSolutions-CFR1",  # no geo restriction
    "AwsSolutions-CFR2",  # no WAF in front of static files
    "AwsSolutions-CFR4",  # *.cloudfront.net's TLS policy
    "AwsSolutions-SMG4",  # secrets rotated by deploying or by hand
    "AwsSolutions-RDS3",  # single-AZ by default
    "AwsSolutions-RDS11",  # the default port
    "AwsSolutions-ECS2",  # CONFIG_CONF in the environment
    "AwsSolutions-IAM4",  # AWSLambdaBasicExecutionRole for the migration functions
    "AwsSolutions-IAM5",  # bucket prefixes, actions without resource-level permissions
    "AwsSolutions-SF1",  # the custom-resource framework's waiter
    "AwsSolutions-SF2",
}


def acknowledgements(synthesized) -> dict[str, str]:
    """rule id -> reason, from the audit trail cdk-nag writes into the template."""
    found = {}
    for resource in synthesized.resources.values():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            found[rule["id"]] = rule["reason"]
    return found


def test_the_synthesis_looks_nothing_up_in_an_account(default):
    manifest = json.loads((default.outdir / "manifest.json").read_text())
    assert "missing" not in manifest  # no context lookup was needed (or made)
    artifact = manifest["artifacts"][default.stack.artifact_id]
    assert artifact["environment"].endswith("/us-east-1")  # a fixed region, from the settings


def test_every_cdk_nag_finding_kept_is_acknowledged_with_a_reason(default):
    found = acknowledgements(default)
    rules = {rule.split("[", 1)[0] for rule in found if rule.startswith("AwsSolutions-")}
    assert rules == ACKNOWLEDGED  # a new finding is fixed or argued in nag.py, and listed here
    for rule, reason in found.items():
        assert len(reason) >= 40, f"{rule}: {reason!r} is no reason"


def test_the_options_that_fix_a_finding_need_no_acknowledgement(custom):
    rules = {rule.split("[", 1)[0] for rule in acknowledgements(custom)}
    assert "AwsSolutions-RDS3" not in rules  # Multi-AZ
    assert "AwsSolutions-RDS10" in rules  # deletion protection off, to tear down


def test_cfn_lint_finds_no_error(default, custom):
    templates = [str(path) for path in default.outdir.glob("*.template.json")]
    templates += [str(path) for path in custom.outdir.glob("*.template.json")]
    answer = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json", *templates],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert answer.returncode in (0, 4, 8), answer.stderr  # 2 is an error: see cfn-lint --help
    matches = json.loads(answer.stdout or "[]")
    errors = [match for match in matches if match["Level"] == "Error"]
    assert errors == []


# ---------------------------------------------------------------- the image


def image_context(synthesized) -> tuple[Path, dict]:
    assets = json.loads(
        (synthesized.outdir / f"{synthesized.stack.stack_name}.assets.json").read_text()
    )
    (image,) = assets["dockerImages"].values()
    return synthesized.outdir / image["source"]["directory"], image["source"]


def test_the_image_is_built_from_the_repository_dockerfile(default):
    context, source = image_context(default)
    assert source["dockerFile"] == "deploy/aws/Dockerfile"
    assert source["platform"] == "linux/amd64"
    assert (context / "deploy/aws/Dockerfile").is_file()


def test_the_image_context_holds_the_app_and_nothing_else(default):
    context, _ = image_context(default)
    top = {path.name for path in context.iterdir()}
    assert top == {
        "accounts",
        "api",
        "config",
        "contests",
        "videos",
        "transcoding",
        "templates",
        "static",
        "locale",
        "manage.py",
        "gunicorn.conf.py",
        "pyproject.toml",
        "deploy",
    }
    assert {path.name for path in (context / "deploy" / "aws").iterdir()} == {
        "Dockerfile",
        "runtime",
    }
    assert not list(context.rglob("__pycache__"))


def dockerfile_copies(dockerfile: str) -> list[str]:
    copied = []
    for line in dockerfile.splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not words[1].startswith("--from"):
            copied += words[1:-1]
    return copied


def test_every_package_of_the_product_goes_into_the_image(default):
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in include}
    context, _ = image_context(default)
    copied = dockerfile_copies((context / "deploy/aws/Dockerfile").read_text())
    for package in packages:
        assert package in copied, f"the Dockerfile does not copy {package}/"
        assert (context / package / "__init__.py").is_file(), f"{package}/ not in the context"


def test_everything_the_dockerfile_copies_is_in_its_context(default):
    context, _ = image_context(default)
    dockerfile = (context / "deploy/aws/Dockerfile").read_text()
    copied = dockerfile_copies(dockerfile)
    assert "manage.py" in copied and "config" in copied
    for path in copied:
        assert (context / path).exists(), f"COPY {path}: not in the build context"
    assert '"/app/deploy/aws/runtime/entrypoint.sh"' in dockerfile
    assert (context / "deploy/aws/runtime/entrypoint.sh").is_file()
