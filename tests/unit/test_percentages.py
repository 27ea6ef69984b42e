"""Shares of a contract done read as percentages, with 2 places: what people expect to see."""

from __future__ import annotations

import pytest

from projections.queries import _percent, _share


@pytest.mark.parametrize(
    "done, of, percent, share",
    [(1503, 1000, "150.30", "1.5030"), (1, 3, "33.33", "0.3333"), (2, 3, "66.67", "0.6667"), (500, 500, "100.00", "1.0000"), (0, 7, "0.00", "0.0000"), (0, 0, "0.00", "0")],
)
def test_the_percent_done_is_the_share_done_times_a_hundred_to_two_places(done, of, percent, share):
    assert _percent(done, of) == percent and _share(done, of) == share
