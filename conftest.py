"""Fixtures shared by every app's tests."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate limits live in the cache (Redis): no test inherits another's counters."""
    cache.clear()
    yield
    cache.clear()
