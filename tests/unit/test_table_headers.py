"""Column headers read as people write them: acronyms in capitals, never the frame's key."""

from __future__ import annotations

import pytest

from daivi_ui.tables import header


@pytest.mark.parametrize(("column", "shown"), [
    ("cur_unblended", "CUR unblended"),  # the CUR reconciliation table said "Cur unblended"
    ("cur_amortized", "CUR amortized"),
    ("billing_unblended", "Billing unblended"),
    ("account_id", "Account ID"),
    ("usage_type", "Usage type"),
])
def test_headers_spell_acronyms_and_words(column, shown):
    assert header(column) == shown
