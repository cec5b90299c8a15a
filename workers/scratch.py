"""A worker's scratch space (MEDIAHUB_SCRATCH_DIR): files a step needs on a local disk only while it runs.

Each step gets a folder of its own, removed when the step ends, failed or not. A full disk is not the
asset's fault: ScratchFull is a transient error (workers/celery.py), so the step is retried later, by
this worker once space is freed or by another worker with room.
"""

from __future__ import annotations

import errno
import logging
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

logger = logging.getLogger(__name__)


class ScratchFull(Exception):
    def __init__(self, root: Path):
        super().__init__(f"The scratch dir {root} is full; the step will be retried. Free space there or point "
                         "MEDIAHUB_SCRATCH_DIR at a larger disk.")


@contextmanager
def scratch_folder(root: Path) -> Iterator[Path]:
    """A new, empty folder under `root`, removed with everything in it afterwards; running out of space
    there (ENOSPC) raises ScratchFull."""
    root.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(dir=root, prefix="step-") as folder:
            yield Path(folder)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        full = ScratchFull(root)
        logger.warning("%s", full)
        raise full from exc
