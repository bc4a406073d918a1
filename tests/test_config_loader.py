import json
import uuid
from pathlib import Path

import pytest

from config import loader
from tests.servers import free_port

# The worker AMI's config.conf, as the seed's deployment guide ships it.
SEED_WORKER_CONF = """\
[SECRETS]
name = videoshare/develop/config
region = us-east-1

[FFMPEG]
ffmpeg = ffmpeg
ffmpeg_args = -strict -2
"""


def write_conf(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.conf"
    path.write_text(text)
    return path


def test_it_uses_the_seed_defaults(tmp_path):
    values = loader.load(environ={}, config_file=None)
    assert values["web_port"] == "8080"
    assert values["ffmpeg"] == "ffmpeg"
    assert values["data_dir"] == "./var"
    assert loader.web_url(values) == "http://localhost:8080"


def test_it_reads_the_seed_config_conf(tmp_path):
    conf = write_conf(tmp_path, SEED_WORKER_CONF)
    values = loader.read_config_file(conf)
    assert values["secret_name"] == "videoshare/develop/config"
    assert values["secret_region"] == "us-east-1"
    assert values["ffmpeg"] == "ffmpeg"
    assert values["ffmpeg_args"] == "-strict -2"


def test_without_a_secret_name_aws_is_never_asked(tmp_path):
    # An empty VIDEOSHARE_SECRET_NAME switches the seed's secret off, e.g. on a laptop.
    conf = write_conf(tmp_path, SEED_WORKER_CONF)
    values = loader.load(environ={"VIDEOSHARE_SECRET_NAME": ""}, config_file=conf)
    assert values["ffmpeg_args"] == "-strict -2"
    assert values["s3_url"] == ""


def test_environment_overrides_the_file(tmp_path):
    conf = write_conf(tmp_path, "[VIDEOSHARE]\nweb_port = 9000\nweb_url = videos.example.org\n")
    values = loader.load(environ={"VIDEOSHARE_WEB_PORT": "9100"}, config_file=conf)
    assert values["web_port"] == "9100"
    assert loader.web_url(values) == "http://videos.example.org"


def test_a_malformed_number_names_its_key():
    values = loader.load(environ={"VIDEOSHARE_WEB_PORT": "eighty"}, config_file=None)
    with pytest.raises(loader.ConfigError, match="web_port"):
        loader.as_int(values, "web_port")


def test_a_missing_config_file_is_an_error(tmp_path):
    with pytest.raises(loader.ConfigError, match="does not exist"):
        loader.load(environ={}, config_file=tmp_path / "nope.conf")


# ---------------------------------------------------------------- the seed's secret, on moto

# The seed's template with the values a deployment fills in as it goes; the rest stay "".
SEED_SECRET = {
    "web_url": "videoshare-alb-123.us-east-1.elb.amazonaws.com",
    "web_port": "",
    "rds_url": "videoshare.abc.us-east-1.rds.amazonaws.com",
    "rds_port": "3306",
    "rds_user": "admin",
    "rds_pass": "s3cr3t",
    "rds_db": "videoshare",
    "sqs_url": "",
    "s3_url": "MyVideoShareBucket",
    "cf_url": "5sRrs3wsefd",
    "ses_email": "videos@example.org",
    "splunk_api_url": "",
    "splunk_api_port": "",
    "splunk_api_protocol": "",
    "splunk_api_token": "",
    "splunk_index": "",
    "splunk_source": "",
    "splunk_sourcetype": "",
}


@pytest.fixture
def secrets(moto_server, monkeypatch):
    """Store a secret in moto's Secrets Manager; returns its (unique) name."""
    import boto3

    for key, value in moto_server.env().items():
        monkeypatch.setenv(key, value)
    client = boto3.client("secretsmanager")

    def store(value) -> str:
        name = f"videoshare/test/{uuid.uuid4().hex}"
        text = value if isinstance(value, str) else json.dumps(value)
        client.create_secret(Name=name, SecretString=text)
        return name

    return store


def test_the_seed_secret_configures_the_deployment(secrets, tmp_path):
    name = secrets(SEED_SECRET)
    conf = write_conf(tmp_path, SEED_WORKER_CONF.replace("videoshare/develop/config", name))
    values = loader.load(environ={}, config_file=conf)
    assert values["s3_url"] == "MyVideoShareBucket"
    assert values["cf_url"] == "5sRrs3wsefd"
    assert values["rds_pass"] == "s3cr3t"
    assert values["ses_email"] == "videos@example.org"
    assert loader.web_url(values) == "http://videoshare-alb-123.us-east-1.elb.amazonaws.com"
    assert values["ffmpeg_args"] == "-strict -2"  # config.conf still gives what the secret lacks


def test_empty_values_in_the_secret_count_as_unset(secrets, tmp_path):
    name = secrets({**SEED_SECRET, "web_port": "", "sqs_url": "", "rds_port": None})
    conf = write_conf(tmp_path, "[VIDEOSHARE]\nsqs_url = https://sqs.example/q\n")
    values = loader.load(environ={"VIDEOSHARE_SECRET_NAME": name}, config_file=conf)
    assert values["web_port"] == "8080"  # the default
    assert values["sqs_url"] == "https://sqs.example/q"  # config.conf
    assert values["rds_port"] == ""


def test_environment_beats_secret_beats_config_conf_beats_defaults(secrets, tmp_path):
    name = secrets({"web_port": 8000, "s3_url": "from-secret", "debug": True, "data_dir": ""})
    conf = write_conf(
        tmp_path,
        f"[SECRETS]\nname = {name}\nregion = us-east-1\n\n"
        "[VIDEOSHARE]\nweb_port = 9000\ns3_url = from-file\ncf_url = d123\n",
    )
    values = loader.load(environ={"VIDEOSHARE_WEB_PORT": "9100"}, config_file=conf)
    assert values["web_port"] == "9100"  # environment
    assert values["s3_url"] == "from-secret"  # secret over config.conf
    assert values["debug"] == "true"  # JSON numbers and booleans become text
    assert values["cf_url"] == "d123"  # config.conf, the secret lacks it
    assert values["data_dir"] == "./var"  # default


def test_the_environment_may_name_the_secret(secrets):
    name = secrets({"s3_url": "env-named"})
    environ = {"VIDEOSHARE_SECRET_NAME": name, "VIDEOSHARE_SECRET_REGION": "us-east-1"}
    assert loader.load(environ=environ, config_file=None)["s3_url"] == "env-named"


def test_keys_of_other_tools_in_the_secret_are_left_alone(secrets):
    name = secrets({"s3_url": "mine", "api_key_of_another_tool": {"nested": 1}})
    assert loader.load(environ={"VIDEOSHARE_SECRET_NAME": name})["s3_url"] == "mine"


def test_a_missing_secret_stops_start_up_with_its_name(secrets):
    with pytest.raises(loader.ConfigError, match="videoshare/nope.*does not exist"):
        loader.load(environ={"VIDEOSHARE_SECRET_NAME": "videoshare/nope"})


@pytest.mark.parametrize(
    "text, message",
    [
        ("web_url=x", "is not valid JSON"),
        ('["s3_url", "b"]', "must be a JSON object of keys, got a JSON array"),
        ('{"s3_url": ["a", "b"]}', "s3_url must be text or a number, got a JSON array"),
    ],
)
def test_a_malformed_secret_stops_start_up_naming_it(secrets, text, message):
    name = secrets(text)
    with pytest.raises(loader.ConfigError, match=message) as error:
        loader.load(environ={"VIDEOSHARE_SECRET_NAME": name})
    assert name in str(error.value)


def test_a_malformed_value_in_the_secret_names_its_key(secrets):
    values = loader.load(environ={"VIDEOSHARE_SECRET_NAME": secrets({"web_port": "eighty"})})
    with pytest.raises(loader.ConfigError, match="web_port must be a whole number"):
        loader.as_int(values, "web_port")


def test_an_unreachable_secrets_manager_stops_start_up(secrets, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(loader.ConfigError, match="cannot read secret 'videoshare/x'"):
        loader.load(environ={"VIDEOSHARE_SECRET_NAME": "videoshare/x"})
