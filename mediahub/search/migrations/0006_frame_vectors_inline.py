"""Keep frame vectors in the table's own rows rather than out of line (TOAST).

A 512-d vector (2 KB) is just over Postgres's out-of-line threshold, so each one read by an exact scan
cost an index lookup and two chunk reads in the TOAST table: scoring 24,000 seconds took 140 ms against
45 ms inline (bench/search_latency.py's library, README "Search speed at scale"). STORAGE MAIN keeps a
value in its row whenever it fits a page. Rows written before this migration stay where they are until
the table is rewritten (VACUUM FULL search_frameembedding, or a reprocess).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("search", "0005_search_duration")]
    operations = [
        migrations.RunSQL("ALTER TABLE search_frameembedding ALTER COLUMN embedding SET STORAGE MAIN",
                          "ALTER TABLE search_frameembedding ALTER COLUMN embedding SET STORAGE EXTERNAL"),
    ]
