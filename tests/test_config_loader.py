from pathlib import Path

import pytest

from config import loader


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
    conf = write_conf(
        tmp_path,
        "[SECRETS]\nname = videoshare/develop/config\nregion = us-east-1\n\n"
        "[FFMPEG]\nffmpeg = /opt/ffmpeg/bin/ffmpeg\nffmpeg_args = -strict -2\n",
    )
    values = loader.load(environ={}, config_file=conf)
    assert values["ffmpeg"] == "/opt/ffmpeg/bin/ffmpeg"
    assert values["ffmpeg_args"] == "-strict -2"


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
