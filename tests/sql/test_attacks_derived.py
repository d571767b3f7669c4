"""Attacks on page.derived's origin keys: a value derived from a frame is never served for another frame.

Frames a page run made are keyed by the query that made them, not by their content. The query's frame
depends on the principal, the data and the grants *it ran under*; the derived cache reads the versions
again when it stores the value. A grants edit (or a rebuild) between the two must not leave a value
computed from the old frame under the new versions, where the next rerun would be served it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from daivi_data.connection import LakehouseConnection, clear_cached
from daivi_data.governance import policy_store
from daivi_data.queries import make_query
from daivi_ui.context import AppContext
from daivi_ui.page import Page
from tests.helpers import principal

ONE_ACCOUNT = "row_filter = \"account_id = '411111111101'\" }"


@pytest.fixture(autouse=True)
def _cold_cache():
    clear_cached()
    yield
    clear_cached()


def account_ids(df) -> list[str]:
    return sorted(df["account_id"])


def test_a_grants_edit_between_a_query_and_its_derived_value_never_serves_the_old_grants_rows(settings, tmp_path):
    grants = tmp_path / "grants.toml"
    grants.write_bytes(settings.grants_file.read_bytes())
    connection = LakehouseConnection(f"attack-{tmp_path.name}", settings=replace(settings, audit_log=tmp_path / "a.jsonl",
                                                                                 grants_file=grants))
    ops = principal("ops")

    def page() -> Page:
        return Page(AppContext(settings, ops, policy_store(grants).current().for_role(ops.role), connection, embed=False))

    query = make_query("t.accounts", "SELECT account_id FROM daivi_billing.accounts")
    first = page()
    frame = first.run(query)
    assert len(frame) > 1
    # The grants are narrowed to one account while this run is between its query and its derived value.
    text = grants.read_text().replace(
        '{ database = "daivi_billing", table = "accounts", excluded_columns = ["owner_email"] }',
        '{ database = "daivi_billing", table = "accounts", excluded_columns = ["owner_email"], ' + ONE_ACCOUNT)
    assert text != grants.read_text()
    grants.write_text(text)
    first.derived(account_ids, frame)

    rerun = page()
    allowed = rerun.run(query)
    assert list(allowed["account_id"]) == ["411111111101"]
    assert rerun.derived(account_ids, allowed) == ["411111111101"]  # not the accounts the edit revoked


COMPUTED: list[int] = []


def counted_rows(df) -> int:
    COMPUTED.append(len(df))
    return len(df)


def test_a_rebuild_between_a_query_and_its_derived_value_is_computed_again_from_the_new_rows(settings, tmp_path, monkeypatch):
    """The same race with the data version (a rebuilt lakehouse): the value derived after the rebuild from rows read
    before it is not what the first rerun over the rebuilt data is served."""
    connection = LakehouseConnection(f"attack-data-{tmp_path.name}", settings=replace(settings, audit_log=tmp_path / "a.jsonl"))
    ops = principal("ops")
    grants = policy_store(settings.grants_file).current().for_role(ops.role)
    query = make_query("t.accounts", "SELECT account_id FROM daivi_billing.accounts")
    COMPUTED.clear()
    first = Page(AppContext(settings, ops, grants, connection, embed=False))
    frame = first.run(query)
    monkeypatch.setattr(connection.engine, "data_version", lambda: "rebuilt")
    first.derived(counted_rows, frame)
    rerun = Page(AppContext(settings, ops, grants, connection, embed=False))
    rerun.derived(counted_rows, rerun.run(query))
    assert len(COMPUTED) == 2  # computed again from the rows read over the rebuilt data, not served the first value
