"""Writes of search data: embedding models, frame vectors and their per-model HNSW indexes."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from django.db import connection, transaction

from mediahub.assets.models import Asset, Frame
from mediahub.search.models import EmbeddingModel, FrameEmbedding
from workers.ml.clip import ClipSpec

HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64


def embedding_model_ensure(*, spec: ClipSpec) -> EmbeddingModel:
    """The row for `spec`'s model and weights, with its vector index, created on first use."""
    model, _ = EmbeddingModel.objects.get_or_create(
        key=spec.key, defaults={"name": spec.name, "pretrained": spec.weights or "random", "dim": spec.embed_dim()})
    vector_index_ensure(model=model)
    return model


def vector_index_ensure(*, model: EmbeddingModel) -> None:
    """A partial HNSW index (cosine) over this model's vectors, cast to its dimension.

    One index per model because the column holds vectors of several sizes; a
    query must use the same cast and `model_id = <id>` predicate to use it.
    """
    table = FrameEmbedding._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [model.index_name])
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {model.index_name} ON {table} "
            f"USING hnsw ((embedding::vector({int(model.dim)})) vector_cosine_ops) "
            f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}) "
            f"WHERE model_id = {int(model.pk)}"
        )


@transaction.atomic
def frame_embeddings_save(*, asset: Asset, model: EmbeddingModel, frames: Sequence[Frame], vectors: np.ndarray) -> None:
    """Upsert one vector per frame for `model` (a re-run replaces, never duplicates)."""
    rows = [FrameEmbedding(frame=frame, asset=asset, model=model, time=frame.time, embedding=vector)
            for frame, vector in zip(frames, vectors, strict=True)]
    FrameEmbedding.objects.bulk_create(rows, update_conflicts=True, unique_fields=["frame", "model"],
                                       update_fields=["embedding", "time", "asset", "updated_at"])


def frame_embeddings_prune(*, keep_key: str) -> int:
    """Delete the vectors of every model but `keep_key`."""
    deleted, _ = FrameEmbedding.objects.exclude(model__key=keep_key).delete()
    return deleted
