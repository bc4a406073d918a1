"""Settings for the test run: the same as production's, in a throwaway data folder.

The database is SQLite unless VIDEOSHARE_TEST_DB names one of the servers CI runs on this
machine (postgresql, mariadb), or the usual keys (VIDEOSHARE_DB_ENGINE, VIDEOSHARE_RDS_URL...)
name another server. Django makes its own test database there, never touching the data in
rds_db; the end-to-end processes get theirs from tests/databases.
"""

import os
import secrets
import tempfile

from django.core.exceptions import ImproperlyConfigured

from tests.servers import SERVERS

os.environ.setdefault("VIDEOSHARE_DATA_DIR", tempfile.mkdtemp(prefix="videoshare-test-"))
# One key for the run, inherited by the processes tests start: with a database server they form
# a cluster, which refuses to start without a shared key.
os.environ.setdefault("VIDEOSHARE_SECRET_KEY", secrets.token_urlsafe(50))

# VIDEOSHARE_TEST_DB -> the configuration keys for that server (set here unless set already,
# so the processes the end-to-end tests start inherit them).
TEST_DATABASES = {
    "sqlite": {},
    "postgresql": {"DB_ENGINE": "postgresql", "RDS_USER": "postgres"},
    "mariadb": {"DB_ENGINE": "mysql", "RDS_USER": "root"},
}
_test_db = os.environ.get("VIDEOSHARE_TEST_DB") or "sqlite"
if _test_db not in TEST_DATABASES:
    raise ImproperlyConfigured(
        f"VIDEOSHARE_TEST_DB must be one of {', '.join(TEST_DATABASES)}, got {_test_db!r}"
    )
if _test_db != "sqlite":
    _host, _port = SERVERS[_test_db]
    for _key, _value in {
        **TEST_DATABASES[_test_db],
        "RDS_URL": _host,
        "RDS_PORT": str(_port),
        "RDS_DB": "videoshare",
    }.items():
        os.environ.setdefault(f"VIDEOSHARE_{_key}", _value)

from config.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
# The host name of Django's test client and request factory; production never serves it.
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405

if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":  # noqa: F405
    # Runs share the server (CI, several developers at once): each makes a test database of its
    # own, where Django's one name would let one run drop another's.
    _default = DATABASES["default"]  # noqa: F405
    _default.setdefault("TEST", {})["NAME"] = f"test_{_default['NAME']}_{secrets.token_hex(4)}"
