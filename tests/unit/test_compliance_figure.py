"""The tag compliance bars read like the Tag compliance tab's tiles: percentages with one decimal."""

from __future__ import annotations

import pandas as pd

from daivi_ui.figures_inventory import build_compliance_figure


def test_bar_labels_have_one_decimal_like_the_compliant_tile():
    by = pd.DataFrame({"account": ["a", "b"], "compliance_pct": [30.434, 100.0], "resources": [23, 1200]})
    labels = list(build_compliance_figure(by, "account", "Compliance by account").data[0].text)
    assert sorted(labels) == ["100.0% of 1,200", "30.4% of 23"]


def test_the_colour_scale_is_not_red_to_green():
    by = pd.DataFrame({"account": ["a", "b"], "compliance_pct": [10.0, 100.0], "resources": [3, 4]})
    scale = build_compliance_figure(by, "account", "Compliance by account").layout.coloraxis.colorscale
    assert [color for _, color in scale] == ["#D55E00", "#F0E442", "#0072B2"]  # vermillion, yellow, blue
