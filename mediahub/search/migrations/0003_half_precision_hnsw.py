"""Rebuild each model's HNSW index over half-precision copies of its vectors (see services.vector_index_ensure)."""

from django.db import migrations


def rebuild(apps, schema_editor):
    from mediahub.search.models import EmbeddingModel
    from mediahub.search.services import vector_index_ensure

    for model in EmbeddingModel.objects.all():
        schema_editor.execute(f"DROP INDEX IF EXISTS search_frameemb_hnsw_{int(model.pk)}")
        vector_index_ensure(model=model)


class Migration(migrations.Migration):
    dependencies = [("search", "0002_searches_and_feedback")]
    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
