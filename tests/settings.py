"""Settings for the test session: a data dir of its own and the bundled demo model."""

import os
from pathlib import Path

os.environ.setdefault("MEDIAHUB_DATA_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))
os.environ.setdefault("MEDIAHUB_CLIP_MODEL", "demo")

from mediahub.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
