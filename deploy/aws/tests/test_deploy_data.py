"""Database, files, queue, mail and the secret: what the app's keys point at."""

import json

import pytest
from videoshare_deploy.layout import HIDDEN_PREFIX, ORIGINALS_PREFIX, PUBLIC_PREFIXES

pytestmark = pytest.mark.deploy

# The seed's secret, key by key (its deployment guide, step 1).
SEED_KEYS = [
    "web_url",
    "web_port",
    "rds_url",
    "rds_port",
    "rds_user",
    "rds_pass",
    "rds_db",
    "sqs_url",
    "s3_url",
    "cf_url",
    "ses_email",
    "splunk_api_url",
    "splunk_api_port",
    "splunk_api_protocol",
    "splunk_api_token",
    "splunk_index",
    "splunk_source",
    "splunk_sourcetype",
]


def secret_parts(synthesized) -> list:
    secret = synthesized.resources[synthesized.logical_id(synthesized.stack.secret)]
    return secret["Properties"]["SecretString"]["Fn::Join"][1]


def secret_text(synthesized) -> str:
    return "".join(p if isinstance(p, str) else json.dumps(p) for p in secret_parts(synthesized))


# ---------------------------------------------------------------- the secret


def test_the_secret_has_the_seeds_name_scheme_and_every_seed_key(default):
    default.assertions().has_resource_properties(
        "AWS::SecretsManager::Secret", {"Name": "videoshare/production/config"}
    )
    text = secret_text(default)
    positions = [text.index(f'"{key}":') for key in SEED_KEYS]
    assert positions == sorted(positions)  # in the seed's order
    for key in ("secret_key", "db_engine", "forwarded_allow_ips", "cf_distribution_id"):
        assert f'"{key}":' in text


def test_no_secret_is_written_into_the_template(default):
    """rds_pass and secret_key are references CloudFormation resolves while deploying."""
    text = secret_text(default)
    # the generated secret, attached to the database
    password = json.dumps({"Ref": default.logical_id(default.stack.database.secret)})
    assert f'"rds_pass":"{{{{resolve:secretsmanager:{password}:SecretString:password::}}}}"' in text
    key_secret = default.logical_id(default.stack.node.find_child("SecretKey"))
    key = json.dumps({"Ref": key_secret})
    assert f'"secret_key":"{{{{resolve:secretsmanager:{key}:SecretString:::}}}}"' in text
    generated = default.resources[key_secret]["Properties"]["GenerateSecretString"]
    assert generated["PasswordLength"] >= 50


def test_the_tasks_read_the_secret_through_config_conf(default, tmp_path):
    from config import loader

    for tier in ("web", "worker", "migrate"):
        definition = default.resources[default.logical_id(default.stack.task_definitions[tier])]
        (container,) = definition["Properties"]["ContainerDefinitions"]
        environment = {item["Name"]: item["Value"] for item in container["Environment"]}
        assert set(environment) == {"CONFIG_CONF"}  # nothing else, and no secret
        (tmp_path / f"{tier}.conf").write_text(environment["CONFIG_CONF"])
        values = loader.read_config_file(tmp_path / f"{tier}.conf")
        assert values["secret_name"] == "videoshare/production/config"
        assert values["secret_region"] == "us-east-1"
        assert values["ffmpeg"] == "ffmpeg"  # the seed's [FFMPEG] section
        assert "Secrets" not in container


def test_a_change_of_the_secret_replaces_the_running_tasks(default, custom):
    """Processes read the secret as they start: config.conf carries the secret's version, so
    the task definitions, and with them the tasks, change when the stack changes the secret."""

    def versions(synthesized) -> set[str]:
        found = set()
        for definition in synthesized.stack.task_definitions.values():
            resource = synthesized.resources[synthesized.logical_id(definition)]
            (container,) = resource["Properties"]["ContainerDefinitions"]
            found.add(container["Environment"][0]["Value"].splitlines()[0])
        return found

    (default_version,) = versions(default)  # one version, in every tier's config.conf
    (custom_version,) = versions(custom)
    assert default_version.startswith("# VideoShare/Config: ")
    assert default_version.split(": ")[1] != custom_version.split(": ")[1]


def test_a_splunk_token_is_a_reference_too(custom):
    text = secret_text(custom)
    assert (
        '"splunk_api_token":"{{resolve:secretsmanager:videoshare/staging/splunk:SecretString:::}}"'
        in text
    )
    assert '"splunk_api_url":"splunk.example.org"' in text


# ---------------------------------------------------------------- the database


def test_mysql_encrypted_private_with_a_generated_password(default, Match):
    template = default.assertions()
    template.has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "Engine": "mysql",
            "EngineVersion": Match.string_like_regexp(r"^8\.4\."),
            "StorageEncrypted": True,
            "PubliclyAccessible": False,
            "MultiAZ": False,
            "DeletionProtection": True,
            "BackupRetentionPeriod": 7,
            "DBName": "videoshare",
            "MasterUsername": "videoshare",
            "MasterUserPassword": Match.object_like(
                {"Fn::Join": ["", Match.array_with(["{{resolve:secretsmanager:"])]}
            ),
        },
    )
    template.has_resource("AWS::RDS::DBInstance", {"DeletionPolicy": "Snapshot"})
    template.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {"GenerateSecretString": Match.object_like({"GenerateStringKey": "password"})},
    )


def test_postgresql_and_multi_az_when_chosen(custom):
    (database,) = custom.of_type("AWS::RDS::DBInstance").values()
    properties = database["Properties"]
    assert properties["Engine"] == "postgres"
    assert properties["MultiAZ"] is True
    assert properties["DeletionProtection"] is False
    assert '"db_engine":"postgresql"' in secret_text(custom)


# ---------------------------------------------------------------- files


def test_the_bucket_is_private_encrypted_and_drops_unfinished_uploads(default):
    bucket = default.resources[default.logical_id(default.stack.media)]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = bucket["LifecycleConfiguration"]["Rules"]
    assert {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}.items() <= rules[
        0
    ].items()
    assert rules[0]["Status"] == "Enabled"


def test_the_site_alone_may_put_parts_and_read_their_etags(default, custom):
    for deployment in (default, custom):
        bucket = deployment.resources[deployment.logical_id(deployment.stack.media)]
        (rule,) = bucket["Properties"]["CorsConfiguration"]["CorsRules"]
        assert rule["AllowedMethods"] == ["PUT"]
        assert rule["ExposedHeaders"] == ["ETag"]
        (origin,) = rule["AllowedOrigins"]
        named = deployment.stack.settings.domain_name
        assert origin == (deployment.stack.web_url if named else "*")


def test_cloudfront_reads_the_public_prefixes_only(default):
    (policy,) = [
        item["Properties"]["PolicyDocument"]["Statement"]
        for item in default.of_type("AWS::S3::BucketPolicy").values()
        if item["Properties"]["Bucket"] == {"Ref": default.logical_id(default.stack.media)}
    ]
    allowed = [statement for statement in policy if statement["Effect"] == "Allow"]
    assert len(allowed) == 1  # only CloudFront, only reading
    (cloudfront,) = allowed
    assert cloudfront["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert cloudfront["Action"] == "s3:GetObject"
    distribution = default.logical_id(default.stack.distribution)
    assert json.dumps({"Ref": distribution}) in json.dumps(cloudfront["Condition"])
    suffixes = sorted(resource["Fn::Join"][1][1] for resource in cloudfront["Resource"])
    assert suffixes == sorted(f"/{prefix}*" for prefix in PUBLIC_PREFIXES)
    for private in (ORIGINALS_PREFIX, HIDDEN_PREFIX, ""):
        assert f"/{private}*" not in suffixes  # no originals, no hidden entries, not all


def test_the_distribution_uses_origin_access_control_and_https(default, Match):
    template = default.assertions()
    template.resource_count_is("AWS::CloudFront::OriginAccessControl", 1)
    template.resource_count_is("AWS::CloudFront::CloudFrontOriginAccessIdentity", 0)
    template.has_resource_properties(
        "AWS::CloudFront::Distribution",
        {
            "DistributionConfig": Match.object_like(
                {
                    "DefaultCacheBehavior": Match.object_like(
                        {
                            "ViewerProtocolPolicy": "redirect-to-https",
                            "AllowedMethods": ["GET", "HEAD"],
                        }
                    ),
                    "Origins": [
                        Match.object_like(
                            {
                                "OriginAccessControlId": Match.any_value(),
                                "S3OriginConfig": {"OriginAccessIdentity": ""},
                            }
                        )
                    ],
                }
            )
        },
    )


def test_cf_url_is_the_distributions_subdomain_as_the_seed_stores_it(default):
    text = secret_text(default)
    distribution = default.logical_id(default.stack.distribution)
    domain = {"Fn::GetAtt": [distribution, "DomainName"]}
    assert f'"cf_url":"{json.dumps({"Fn::Select": [0, {"Fn::Split": [".", domain]}]})}"' in text


# ---------------------------------------------------------------- queue and mail


def test_the_queue_hides_a_taken_job_for_the_apps_job_limit_plus_a_minute(default, custom):
    for synthesized, timeout in ((default, 1800), (custom, 3600)):
        queue = synthesized.resources[synthesized.logical_id(synthesized.stack.queue)]
        properties = queue["Properties"]
        assert properties["VisibilityTimeout"] == timeout + 240 + 60
        dead_letters = synthesized.logical_id(synthesized.stack.dead_letters)
        assert properties["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dead_letters, "Arn"]},
            "maxReceiveCount": 10,
        }
        assert properties["SqsManagedSseEnabled"] is True
        assert f'"convert_timeout":"{timeout}"' in secret_text(synthesized)


def test_the_sender_is_an_ses_identity(default, custom):
    default.assertions().has_resource_properties(
        "AWS::SES::EmailIdentity", {"EmailIdentity": "contests@example.org"}
    )
    assert '"ses_email":"contests@example.org"' in secret_text(default)
    custom.assertions().has_resource_properties(
        "AWS::SES::EmailIdentity", {"EmailIdentity": "videos.example.org"}
    )
    outputs = custom.template["Outputs"]
    assert {"DkimRecord1", "DkimRecord2", "DkimRecord3"} <= set(outputs)
