"""Search text covers keywords and location (issue 11): SQL helpers and the GIN indexes that serve
mediahub.search.selectors.text_match_query.

`asset_search_text` joins title, description, keywords and location with new lines (a query, its
spaces normalised, never holds one, so a substring can't match across two fields). Postgres's own
array_to_string is only STABLE (an element's text may depend on settings); for an array of strings it
isn't, so the wrapper is declared IMMUTABLE, as an index expression must be. The full-text and
trigram indexes are over the exact expressions the query uses; they replace 0006's title+description
ones. A query of two Chinese characters holds no trigram, so its substring match can't use the trigram
index; `unspaced_bigrams` (pairs of adjacent characters of scripts written without spaces: Chinese,
Japanese, Korean) is indexed too, and the query asks first for the text to hold all the query's pairs.
`asset_keywords_folded` is the keywords in lower case, indexed so a keyword named in a query is
found by `&&` (an exact keyword match counts fully in the ranking).
"""

from django.db import migrations

SEARCH_TEXT = "asset_search_text(title, description, keywords, location)"
FOLDED = "asset_keywords_folded(keywords)"
BIGRAMS = f"unspaced_bigrams({SEARCH_TEXT})"
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
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS asset_search_fts ON assets_asset USING gin ((to_tsvector('simple'::regconfig, {SEARCH_TEXT})))",
            "DROP INDEX IF EXISTS asset_search_fts",
        ),
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS asset_search_trgm ON assets_asset USING gin (({SEARCH_TEXT}) gin_trgm_ops)",
            "DROP INDEX IF EXISTS asset_search_trgm",
        ),
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS asset_search_bigrams ON assets_asset USING gin (({BIGRAMS}))",
            "DROP INDEX IF EXISTS asset_search_bigrams",
        ),
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS asset_keywords_folded ON assets_asset USING gin (({FOLDED}))",
            "DROP INDEX IF EXISTS asset_keywords_folded",
        ),
        migrations.RunSQL(
            "DROP INDEX IF EXISTS asset_text_fts; DROP INDEX IF EXISTS asset_description_trgm",
            f"CREATE INDEX IF NOT EXISTS asset_text_fts ON assets_asset USING gin (({OLD_FULLTEXT}));"
            " CREATE INDEX IF NOT EXISTS asset_description_trgm ON assets_asset USING gin (description gin_trgm_ops)",
        ),
    ]
