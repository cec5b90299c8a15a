"""Rebuild each model's HNSW index over half-precision copies of its vectors.

Self-contained (no application code): the index matches search.services.vector_index_ensure.
"""

from django.db import migrations


def rebuild(apps, schema_editor):
    EmbeddingModel = apps.get_model("search", "EmbeddingModel")
    for model in EmbeddingModel.objects.all():
        model_id, dim = int(model.pk), int(model.dim)
        schema_editor.execute(f"DROP INDEX IF EXISTS search_frameemb_hnsw_{model_id}")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS search_frameemb_hnswh_{model_id} ON search_frameembedding "
            f"USING hnsw ((embedding::halfvec({dim})) halfvec_cosine_ops) WITH (m = 16, ef_construction = 64) "
            f"WHERE model_id = {model_id}")


class Migration(migrations.Migration):
    dependencies = [("search", "0002_searches_and_feedback")]
    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
