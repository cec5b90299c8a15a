"""Brief tests search the same indexed test-pattern library as the search tests (built once per module)."""

from tests.search.conftest import library  # noqa: F401  (the fixture)
