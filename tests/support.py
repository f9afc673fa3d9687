"""Shared test fixtures: one start time for the tests' episodes.

Hypothesis strategies for pathways, assessments and episodes are the public
ones in :mod:`carepath.testing` (also registered for ``st.from_type``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

T0: Final = datetime(2026, 1, 5, 9, tzinfo=UTC)
"""A Monday, 09:00 UTC: when the tests' episodes start unless a test says otherwise."""
