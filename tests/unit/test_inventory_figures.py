"""Inventory charts read like the rest of the app: one-decimal percentages, colour-blind-safe colours."""

from __future__ import annotations

import pandas as pd

from daivi_ui.figures_cost import OTHERS_COLOR, PALETTE
from daivi_ui.figures_inventory import build_compliance_figure, build_trend_figure


def test_bar_labels_have_one_decimal_like_the_compliant_tile():
    by = pd.DataFrame({"account": ["a", "b"], "compliance_pct": [30.434, 100.0], "resources": [23, 1200]})
    labels = list(build_compliance_figure(by, "account", "Compliance by account").data[0].text)
    assert sorted(labels) == ["100.0% of 1,200", "30.4% of 23"]


def test_the_colour_scale_is_not_red_to_green():
    by = pd.DataFrame({"account": ["a", "b"], "compliance_pct": [10.0, 100.0], "resources": [3, 4]})
    scale = build_compliance_figure(by, "account", "Compliance by account").layout.coloraxis.colorscale
    assert [color for _, color in scale] == ["#D55E00", "#F0E442", "#0072B2"]  # vermillion, yellow, blue


def test_the_resources_trend_uses_the_colour_blind_safe_palette():
    # Streamlit's theme colours put a red type beside a green one.
    trend = pd.DataFrame({"snapshot_date": ["2026-12-01"] * 3, "resource_type": ["AWS::EC2::Instance", "AWS::S3::Bucket", "AWS::KMS::Key"],
                          "resources": [30, 20, 1]})
    figure = build_trend_figure(trend, top_n=2)
    colours = {trace.name: trace.line.color for trace in figure.data}
    assert colours["other types"] == OTHERS_COLOR
    assert {colours["AWS::EC2::Instance"], colours["AWS::S3::Bucket"]} <= set(PALETTE)
