"""Indexes for search over shots (mediahub.search.selectors).

- `shot_asset_start`: the shots around the seconds a search scores (shots_in_windows), read per
  window from the index rather than every shot of an asset.
- `shot_text_fts` / `shot_text_trgm`: the description text a shot is found by (the editor's where
  there is one, else the generated one; English and Chinese), as full text and as trigrams for the
  substring arm (Chinese); over the exact expression of selectors.SHOT_TEXT, so Postgres answers
  the query from them (shot_description_query). Written as SQL: Django can't express an index
  over this expression with its operator class, and the model is the shots app's to change.
"""

from django.db import migrations

SHOT_TEXT = ("(CASE WHEN edited_en <> '' THEN edited_en ELSE description_en END) || ' ' ||"
             " (CASE WHEN edited_zh <> '' THEN edited_zh ELSE description_zh END)")


class Migration(migrations.Migration):

    dependencies = [
        ("shots", "0001_initial"),
        ("assets", "0003_trigram_extension"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS shot_asset_start ON shots_shot (asset_id, start)",
            "DROP INDEX IF EXISTS shot_asset_start",
        ),
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS shot_text_fts ON shots_shot USING gin ((to_tsvector('simple'::regconfig, {SHOT_TEXT})))",
            "DROP INDEX IF EXISTS shot_text_fts",
        ),
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS shot_text_trgm ON shots_shot USING gin (({SHOT_TEXT}) gin_trgm_ops)",
            "DROP INDEX IF EXISTS shot_text_trgm",
        ),
    ]
