"""What an upload event fans out into.

    probe (media; not for a new upload: the upload's own probe stored the metadata)
    → sample frames + thumbnails, faces (detect, track, group into people), video DNA
    and shots, all in one decode (media) → CLIP embeddings (ml) → zero-shot tags (ml)
    → shot descriptions (ml) → copies: video DNA candidates and alignment (default: database work)
    → finish (default)

Each step takes (asset id, run id), re-reads the asset and stops quietly when
the run has been superseded (a reprocess started a new one) or the asset was
deleted. Progress and failures are written to the asset row, which the pages
poll; no result backend is involved.
"""

from __future__ import annotations

import uuid

from celery import chain

from workers.celery import app

STEPS = ("asset_probe", "asset_sample_frames", "asset_embed_frames", "asset_tag", "asset_describe_shots",
         "asset_copies", "asset_finish")
EMBED_STEP = "asset_embed_frames"  # where a re-embedding with another model starts
FRAMES_STEP = "asset_sample_frames"  # where a new upload starts: the upload probed it (no second download)
UPLOAD_STEPS = STEPS[STEPS.index(FRAMES_STEP):]  # the steps a new upload runs


def pipeline_signature(*, asset_id: int, run_id: uuid.UUID | str, first_step: str = STEPS[0]):
    steps = STEPS[STEPS.index(first_step):]
    return chain(*(app.signature(f"workers.tasks.{step}", args=(asset_id, str(run_id)), immutable=True)
                   for step in steps))


def pipeline_start(*, asset_id: int, run_id: uuid.UUID | str, first_step: str = STEPS[0]) -> None:
    """Enqueue the pipeline (from `first_step`) for one run of an asset. Call after the run is committed."""
    pipeline_signature(asset_id=asset_id, run_id=run_id, first_step=first_step).apply_async()


def pipeline_purge() -> int:
    """Drop every waiting pipeline message (only safe when no worker is running, as at `make run` start)."""
    return app.control.purge() or 0
