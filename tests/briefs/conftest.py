"""The indexed test-pattern library every brief test searches.

Built once per module and committed (outside the per-test transactions) so
every test searches the same footage; each test's own writes (searches,
feedback, deletions) are rolled back as usual.
"""

import pytest

from tests.library import Library, library_build, library_delete


@pytest.fixture(scope="module")
def library(django_db_setup, django_db_blocker, tmp_path_factory) -> Library:
    with django_db_blocker.unblock():
        built = library_build(tmp_path_factory.mktemp("library"))
        yield built
        library_delete(built)
