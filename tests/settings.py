"""Settings for the test run: the same as production's, in a throwaway data folder."""

import os
import tempfile

os.environ.setdefault("VIDEOSHARE_DATA_DIR", tempfile.mkdtemp(prefix="videoshare-test-"))

from config.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
