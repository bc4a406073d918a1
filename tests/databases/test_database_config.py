"""Which database the configuration names (the seed's rds_* keys), and how Django connects."""

import pytest

from config import database, loader
from config.loader import ConfigError

RDS = {"rds_url": "db.example.internal", "rds_port": "3306", "rds_user": "videoshare",
       "rds_pass": "secret", "rds_db": "videoshare"}  # fmt: skip


def default(tmp_path, **keys) -> dict:
    config = {**loader.load(environ={}, config_file=None), **keys}
    return database.databases(config, tmp_path)["default"]


def test_without_a_server_it_is_sqlite_in_the_data_folder(tmp_path):
    assert default(tmp_path)["NAME"] == tmp_path / "videoshare.sqlite3"


def test_the_seeds_rds_keys_mean_mysql_with_four_byte_characters(tmp_path):
    db = default(tmp_path, **RDS)
    assert db["ENGINE"] == "django.db.backends.mysql"
    assert (db["HOST"], db["PORT"], db["USER"], db["NAME"]) == (
        "db.example.internal", "3306", "videoshare", "videoshare"
    )  # fmt: skip
    assert db["OPTIONS"] == {"charset": "utf8mb4", "isolation_level": "read committed"}
    assert db["TEST"]["CHARSET"] == "utf8mb4"


def test_db_engine_chooses_postgresql(tmp_path):
    db = default(tmp_path, **RDS, db_engine="postgresql")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert "OPTIONS" not in db


@pytest.mark.parametrize(
    "keys, complaint",
    [
        ({"db_engine": "oracle"}, "db_engine must be one of"),
        ({"db_engine": "postgresql", "rds_url": "db"}, "rds_db is required"),
    ],
)
def test_it_refuses_a_database_it_cannot_use(tmp_path, keys, complaint):
    with pytest.raises(ConfigError, match=complaint):
        default(tmp_path, **keys)
