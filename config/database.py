"""Which database: SQLite in the data folder, or the server the rds_* keys name."""

from pathlib import Path

from config.loader import ConfigError

ENGINES = {
    "sqlite": "django.db.backends.sqlite3",
    "mysql": "django.db.backends.mysql",
    "postgresql": "django.db.backends.postgresql",
}


def databases(config: dict[str, str], data_dir: Path) -> dict:
    engine = config["db_engine"] or ("mysql" if config["rds_url"] else "sqlite")
    if engine not in ENGINES:
        raise ConfigError(f"db_engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "sqlite":
        return {
            "default": {
                "ENGINE": ENGINES["sqlite"],
                "NAME": data_dir / "videoshare.sqlite3",
                "OPTIONS": {
                    # WAL lets the web and the worker read while the other writes; IMMEDIATE
                    # makes writers wait for the lock instead of failing with "database is locked".
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                    "transaction_mode": "IMMEDIATE",
                    "timeout": 30,
                },
            }
        }
    for key in ("rds_url", "rds_db"):
        if not config[key]:
            raise ConfigError(f"{key} is required when db_engine is {engine}")
    server = {
        "ENGINE": ENGINES[engine],
        "HOST": config["rds_url"],
        "PORT": config["rds_port"],
        "USER": config["rds_user"],
        "PASSWORD": config["rds_pass"],
        "NAME": config["rds_db"],
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
    if engine == "mysql":
        server["OPTIONS"] = {
            # MySQL's "utf8" holds only 3 bytes a character: names and messages with emoji fail.
            "charset": "utf8mb4",
            # Django's default, said out loud: under MySQL's own (REPEATABLE READ) a transaction
            # keeps reading an old snapshot, and get_or_create() can fail yet find no row.
            "isolation_level": "read committed",
        }
        # The test database (test_<rds_db>) is made by Django: give it the same character set.
        server["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    return {"default": server}
