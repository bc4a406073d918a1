"""The deployment's settings (CDK context keys): defaults, conversion, refusals."""

import pytest
from videoshare_deploy.settings import Settings, SettingsError, from_values

pytestmark = pytest.mark.deploy

SENDER = {"sender_email": "contests@example.org"}


def test_the_default_size_needs_only_the_sender():
    settings = from_values(SENDER)
    assert (settings.web_min, settings.web_max, settings.worker_min, settings.worker_max) == (
        2,
        6,
        1,
        4,
    )
    assert settings.availability_zones == ("us-east-1a", "us-east-1b")
    assert settings.secret_name == "videoshare/production/config"  # the seed's, renamed stage
    assert not settings.https


def test_the_queue_hides_a_job_longer_than_the_app_lets_it_run():
    settings = from_values({**SENDER, "convert_timeout": "3600"})
    assert settings.job_max_seconds == 3600 + 240
    assert settings.queue_visibility_seconds == 3600 + 240 + 60


def test_context_text_is_converted_to_the_key_kind():
    settings = from_values(
        {
            **SENDER,
            "worker_min": "0",
            "db_multi_az": "true",
            "deletion_protection": "no",
            "availability_zones": "us-east-1a, us-east-1c",
        }
    )
    assert settings.worker_min == 0
    assert settings.db_multi_az is True
    assert settings.deletion_protection is False
    assert settings.availability_zones == ("us-east-1a", "us-east-1c")


def test_cdk_json_values_keep_their_json_kind():
    settings = from_values(
        {
            **SENDER,
            "web_max": 10,
            "availability_zones": ["eu-west-1a", "eu-west-1b"],
            "region": "eu-west-1",
        }
    )
    assert settings.web_max == 10
    assert settings.availability_zones == ("eu-west-1a", "eu-west-1b")


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({}, "sender_email"),
        ({**SENDER, "web_min": "two"}, "web_min"),
        ({**SENDER, "db_multi_az": "maybe"}, "db_multi_az"),
        ({**SENDER, "certificate_arn": "arn:aws:acm:us-east-1:1:certificate/x"}, "domain_name"),
        ({**SENDER, "availability_zones": "eu-west-1a,eu-west-1b"}, "availability_zones"),
        ({**SENDER, "availability_zones": "us-east-1a"}, "availability_zones"),
        ({**SENDER, "db_engine": "oracle"}, "db_engine"),
        ({**SENDER, "worker_cpu": "3000"}, "worker_cpu"),
        ({**SENDER, "worker_min": "5", "worker_max": "4"}, "worker_min"),
        ({**SENDER, "web_drain_seconds": "300"}, "web_drain_seconds"),
        ({**SENDER, "convert_timeout": "50000"}, "convert_timeout"),
        ({**SENDER, "log_retention_days": "10"}, "log_retention_days"),
        ({**SENDER, "hosted_zone_id": "Z1"}, "hosted_zone_name"),
    ],
)
def test_it_refuses_a_bad_value_naming_the_key(values, named):
    with pytest.raises(SettingsError, match=named):
        from_values(values)


def test_a_domain_with_its_certificate_is_https():
    settings = from_values(
        {**SENDER, "domain_name": "videos.example.org", "certificate_arn": "arn:aws:acm:x"}
    )
    assert settings.https
    assert settings.email_identity == "contests@example.org"


def test_the_identity_may_be_a_domain():
    settings = Settings(sender_email="a@example.org", ses_identity="example.org")
    assert settings.email_identity == "example.org"
