"""Fixtures of the search tests (the cases live in :mod:`tests.search.cases`)."""
from __future__ import annotations

import pytest

from tests.search.cases import realistic


@pytest.fixture(scope="module")
def realistic_inputs():
    """Synthetic people rendered in real DeepFashion poses (with their missing points)."""
    return realistic()
