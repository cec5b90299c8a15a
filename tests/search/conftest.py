"""The indexed test-pattern library every search test queries.

Built once per module and committed (outside the per-test transactions) so
every test searches the same footage; each test's own writes (searches,
feedback, deletions) are rolled back as usual.
"""

import pytest
from django.db import connection

from tests.library import Library, library_build, library_delete


@pytest.fixture(scope="module")
def library(django_db_setup, django_db_blocker, tmp_path_factory) -> Library:
    with django_db_blocker.unblock():
        built = library_build(tmp_path_factory.mktemp("library"))
        yield built
        library_delete(built)


@pytest.fixture
def index_scans_only():
    """For the whole connection (a test may run in autocommit): make the planner walk an index on this tiny
    library, where a scan and a sort would win."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET enable_seqscan; RESET enable_bitmapscan; RESET enable_sort")
