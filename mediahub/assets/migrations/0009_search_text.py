"""Search text covers keywords and location (issue 11): SQL helpers, the generated columns text search
reads (mediahub.search.selectors.text_match_query) and their GIN indexes.

`asset_search_text` joins title, description, keywords and location with new lines (a query, its
spaces normalised, never holds one, so a substring can't match across two fields). Postgres's own
array_to_string is only STABLE (an element's text may depend on settings); for an array of strings it
isn't, so the wrapper is declared IMMUTABLE, as a generated column must be. `unspaced_bigrams` is the
pairs of adjacent characters of scripts written without spaces (Chinese, Japanese, Korean): a query of
two Chinese characters holds no trigram, so the trigram index can't serve its substring match, but
the pairs' index can. `asset_keywords_folded` is the keywords in lower case, so a keyword named in a
query is found by `&&` (an exact keyword match counts fully in the ranking).

Postgres keeps the four generated columns (`search_text`, `search_vector`, `search_bigrams`,
`keywords_folded`) on every write: computed per matching row at query time instead, they cost
~50 us a row (320 ms for a word in 6,700 of 20,000 assets). They replace 0006's title+description
indexes.
"""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.functions.text
from django.db import migrations, models

# The same ranges as mediahub.search.selectors._UNSPACED.
UNSPACED = r"\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION unspaced_bigrams(t text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT coalesce(array_agg(DISTINCT pair), '{}') FROM (
  SELECT substr(t, i, 2) AS pair FROM generate_series(1, length(t) - 1) AS i) pairs
  WHERE pair ~ '^[UNSPACED]{2}$' $$;
CREATE OR REPLACE FUNCTION asset_search_text(title text, description text, keywords text[], location text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT concat_ws(E'\n', title, description, array_to_string(keywords, E'\n'), location) $$;
CREATE OR REPLACE FUNCTION asset_keywords_folded(keywords text[])
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT coalesce(array_agg(lower(k)), '{}') FROM unnest(keywords) AS k $$;
""".replace("UNSPACED", UNSPACED)
DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS unspaced_bigrams(text);
DROP FUNCTION IF EXISTS asset_search_text(text, text, text[], text);
DROP FUNCTION IF EXISTS asset_keywords_folded(text[]);
"""
OLD_FULLTEXT = "to_tsvector('simple'::regconfig, title || ' ' || description)"


class Migration(migrations.Migration):

    dependencies = [
        ("assets", "0008_newsroom_metadata"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS),
        migrations.AddField(
            model_name="asset",
            name="search_text",
            field=models.GeneratedField(db_persist=True, expression=models.Func("title", "description", "keywords", "location", function="asset_search_text", output_field=models.TextField()), output_field=models.TextField()),
        ),
        migrations.AddField(
            model_name="asset",
            name="search_vector",
            field=models.GeneratedField(db_persist=True, expression=django.contrib.postgres.search.SearchVector(models.Func("title", "description", "keywords", "location", function="asset_search_text", output_field=models.TextField()), config="simple"), output_field=django.contrib.postgres.search.SearchVectorField()),
        ),
        migrations.AddField(
            model_name="asset",
            name="search_bigrams",
            field=models.GeneratedField(db_persist=True, expression=models.Func(models.Func("title", "description", "keywords", "location", function="asset_search_text", output_field=models.TextField()), function="unspaced_bigrams"), output_field=django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), size=None)),
        ),
        migrations.AddField(
            model_name="asset",
            name="keywords_folded",
            field=models.GeneratedField(db_persist=True, expression=models.Func("keywords", function="asset_keywords_folded"), output_field=django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), size=None)),
        ),
        migrations.AddIndex(
            model_name="asset",
            index=models.Index(django.db.models.functions.text.Upper("source"), name="asset_source_upper"),
        ),
        migrations.AddIndex(
            model_name="asset",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search_vector"], name="asset_search_fts"),
        ),
        migrations.AddIndex(
            model_name="asset",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search_text"], name="asset_search_trgm", opclasses=["gin_trgm_ops"]),
        ),
        migrations.AddIndex(
            model_name="asset",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search_bigrams"], name="asset_search_bigrams"),
        ),
        migrations.AddIndex(
            model_name="asset",
            index=django.contrib.postgres.indexes.GinIndex(fields=["keywords_folded"], name="asset_keywords_folded"),
        ),
        migrations.RunSQL(
            "DROP INDEX IF EXISTS asset_text_fts; DROP INDEX IF EXISTS asset_description_trgm",
            f"CREATE INDEX IF NOT EXISTS asset_text_fts ON assets_asset USING gin (({OLD_FULLTEXT}));"
            " CREATE INDEX IF NOT EXISTS asset_description_trgm ON assets_asset USING gin (description gin_trgm_ops)",
        ),
    ]
