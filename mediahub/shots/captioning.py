"""Which learned captioner describes a model's shots, found in this installation's data dir.

The compute (training, loading, decoding) is in workers/ml/captioner.py; this module only adds
where a data dir keeps its captioners (settings.DATA_DIR / "captioners" / <model key>).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from workers.ml import captioner as compute
from workers.ml.clip import ClipSpec


def captioner_path(model: ClipSpec | str) -> Path:
    """Where `manage.py train_captioner` writes (and captioner_for looks for) a model's captioner."""
    return compute.captioner_path(_key(model), settings.DATA_DIR)


def captioner_for(model: ClipSpec | str) -> compute.Captioner | None:
    """The trained captioner for a CLIP model (its spec or key): the data dir's, else the bundled
    one for the demo model; None if there is none. CaptionerUnavailable if the data dir's file is
    unreadable or was trained for another model."""
    return compute.captioner_for(_key(model), data_dir=settings.DATA_DIR)


def describer_method(model: ClipSpec | str) -> str:
    """"grammar" or "captioner": the description method a model's shots should get (measured, README
    "Descriptions"; see workers.ml.captioner.describer_method)."""
    return compute.describer_method(_key(model), data_dir=settings.DATA_DIR)


def _key(model: ClipSpec | str) -> str:
    return model if isinstance(model, str) else model.key
