"""Column headers read as people write them: acronyms in capitals, never the frame's key."""

from __future__ import annotations

import pandas as pd
import pytest

from daivi_ui.tables import header, labelled_config


@pytest.mark.parametrize(("column", "shown"), [
    ("cur_unblended", "CUR unblended"),  # the CUR reconciliation table said "Cur unblended"
    ("cur_amortized", "CUR amortized"),
    ("billing_unblended", "Billing unblended"),
    ("account_id", "Account ID"),
    ("usage_type", "Usage type"),
])
def test_headers_spell_acronyms_and_words(column, shown):
    assert header(column) == shown


def test_count_columns_read_with_thousands_separators():
    # The CUR invoice table showed "4774" line items beside KPIs written "5,972".
    config = labelled_config(pd.DataFrame({"line_items": [4774, 12], "http_status": [200, 404], "name": ["a", "b"]}))
    assert config["line_items"]["label"] == "Line items" and config["line_items"]["type_config"]["format"] == "localized"
    assert config["http_status"] == "HTTP status" and config["name"] == "Name"  # codes are not counts: no "2,00"
