"""Settings for the test session: a data dir of its own and the bundled demo model.

The test runner attaches to the data dir's embedded Postgres and Redis here,
explicitly, before the project's settings compute their addresses.
"""

import os
from pathlib import Path

os.environ.setdefault("MEDIAHUB_DATA_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))
os.environ.setdefault("MEDIAHUB_CLIP_MODEL", "demo")

from mediahub import launch  # noqa: E402

launch.services_attach(launch.data_dir_from_environment())

from mediahub.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests

# Throttle counts live in Redis for their window; a key of this session's own keeps a new session's
# users (whose ids restart at 1) from inheriting an earlier session's counts.
CACHES["throttle"]["KEY_PREFIX"] = f"mediahub-throttle-test-{os.getpid()}"  # noqa: F405
