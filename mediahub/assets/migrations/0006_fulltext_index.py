"""GIN indexes for the text side of search (mediahub.search.selectors.text_match_query).

The full-text index is over the exact expression the query matches with, so
Postgres answers `@@` from the index instead of reading every asset; the
trigram index on the description serves its ILIKE arm (the title has one since
0004), so no arm of the query needs a scan of the whole table.
"""

from django.db import migrations

FULLTEXT = "to_tsvector('simple'::regconfig, title || ' ' || description)"


class Migration(migrations.Migration):

    dependencies = [
        ("assets", "0005_asset_proxy"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS asset_text_fts ON assets_asset USING gin (({FULLTEXT}))",
            "DROP INDEX IF EXISTS asset_text_fts",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS asset_description_trgm ON assets_asset USING gin (description gin_trgm_ops)",
            "DROP INDEX IF EXISTS asset_description_trgm",
        ),
    ]
