"""A change in cost under a KPI reads "−5.2%" with a true minus sign, and still points down in green."""

from __future__ import annotations

import pytest

from daivi_ui.components import cost_change_delta
from daivi_ui.format import MINUS


@pytest.mark.parametrize(("change", "expected"), [
    (-0.052, {"delta": f"{MINUS}5.2%", "delta_arrow": "down", "delta_color": "green"}),
    (0.064, {"delta": "+6.4%", "delta_arrow": "up", "delta_color": "red"}),
    (0.00004, {"delta": "+0.0%", "delta_arrow": "off", "delta_color": "gray"}),
    (-0.00004, {"delta": "+0.0%", "delta_arrow": "off", "delta_color": "gray"}),
    (None, {"delta": None}),
    (float("inf"), {"delta": None}),  # nothing the period before: no percentage to show
])
def test_the_delta_has_a_true_minus_and_its_arrow_and_colour_from_the_number(change, expected):
    assert cost_change_delta(change) == expected
