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
