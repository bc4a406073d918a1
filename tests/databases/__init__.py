"""The test run's database server: is it answering, and fresh databases on it.

Django makes the suite's own test database. The processes of the end-to-end tests run with
production settings, so they get a database of their own here, made and dropped by the test.
"""

import contextlib
import os
import secrets

from tests.servers import reachable, unavailable

DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}


def engine(database: dict) -> str:
    """sqlite3, postgresql or mysql, from a Django DATABASES entry."""
    return database["ENGINE"].rsplit(".", 1)[1]


def require(database: dict) -> None:
    """Skip (locally) or fail (CI) when the database server the run asked for is not answering."""
    if engine(database) == "sqlite3":
        return
    host, port = database["HOST"], int(database["PORT"] or DEFAULT_PORTS[engine(database)])
    if not reachable(host, port):
        unavailable(f"the run's {engine(database)} server is not answering on {host}:{port}")


@contextlib.contextmanager
def for_processes(database: dict):
    """While the run lasts, processes that tests start use a database of the run's own.

    They inherit VIDEOSHARE_RDS_DB: pointed at a fresh database, never at the data in rds_db.
    (tests.e2e.service.Service gives each service one of its own besides.)
    """
    require(database)
    if engine(database) == "sqlite3":  # each process's SQLite file is in its own data folder
        yield
        return
    before = os.environ.get("VIDEOSHARE_RDS_DB")
    name = create(database)
    os.environ["VIDEOSHARE_RDS_DB"] = name
    try:
        yield
    finally:
        drop(database, name)
        if before is None:
            del os.environ["VIDEOSHARE_RDS_DB"]
        else:
            os.environ["VIDEOSHARE_RDS_DB"] = before


def create(database: dict) -> str:
    """A new, empty database on the same server; its name."""
    name = f"videoshare_e2e_{secrets.token_hex(4)}"
    if engine(database) == "mysql":
        _run(database, f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    else:
        _run(database, f"CREATE DATABASE {name}")
    return name


def drop(database: dict, name: str) -> None:
    if engine(database) == "mysql":
        _run(database, f"DROP DATABASE IF EXISTS {name}")
    else:
        # FORCE: a killed process's connection may not be gone from the server yet.
        _run(database, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _run(database: dict, statement: str) -> None:
    """One statement outside any database, as the server's administrator the run uses."""
    port = int(database["PORT"] or DEFAULT_PORTS[engine(database)])
    if engine(database) == "mysql":
        import MySQLdb

        connection = MySQLdb.connect(
            host=database["HOST"], port=port, user=database["USER"], passwd=database["PASSWORD"]
        )
        try:
            connection.cursor().execute(statement)
        finally:
            connection.close()
    else:
        import psycopg

        with psycopg.connect(
            host=database["HOST"],
            port=port,
            user=database["USER"],
            password=database["PASSWORD"],
            dbname="postgres",
            autocommit=True,
        ) as connection:
            connection.execute(statement)
