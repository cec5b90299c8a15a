"""Settings for the test session: a data dir of its own and the bundled demo model."""

import os
from pathlib import Path

os.environ.setdefault("MEDIAHUB_DATA_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))
os.environ.setdefault("MEDIAHUB_CLIP_MODEL", "demo")

from mediahub.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests

# Throttle counts live in Redis for their window; a key of this session's own keeps a new session's
# users (whose ids restart at 1) from inheriting an earlier session's counts.
CACHES["throttle"]["KEY_PREFIX"] = f"mediahub-throttle-test-{os.getpid()}"  # noqa: F405
