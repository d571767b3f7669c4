"""The Import page embedded in a wiki (900x600 iframe): a read-only summary that fits, never the import form."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PAGE_TIMEOUT_MS
from tests.e2e.test_embeds_e2e import CUT_ELEMENTS, IFRAME, embedded, idle
from tests.e2e.test_workbench_e2e import OVERFLOWING


@pytest.mark.parametrize("show", ["", "table", "chart,kpis"])
def test_an_embedded_import_page_is_a_summary_that_fits(page, app_url, show):
    frame = embedded(page, app_url, "import?embed=true&persona=admin" + (f"&show={show}" if show else ""))
    frame.wait_for_selector('[data-testid="stDataFrame"]' if show != "chart,kpis" else '[data-testid="stMetric"]',
                            timeout=PAGE_TIMEOUT_MS)
    idle(frame)
    assert not frame.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count()
    assert not frame.locator('[data-testid="stFileUploader"], [data-testid="stButton"], [data-testid="stButtonGroup"], [data-testid="stTextInput"]').count()
    assert frame.get_by_text("as Ada Admin").count()
    assert frame.evaluate("() => document.documentElement.scrollWidth") <= IFRAME["width"]
    assert frame.evaluate(OVERFLOWING) == {"wide": [], "cut": []}
    assert frame.evaluate(CUT_ELEMENTS) == []
