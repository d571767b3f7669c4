"""Attacks on `currency=` of the MCP inventory tools: anything but three capital letters is refused before a
query runs, and a well-formed code the data does not hold is said, never relabels an amount.

Hypothesis draws arbitrary text (quotes, backslashes, `*/`, NUL, unicode, lower case, 10,000 characters) in
one MCP session per tool; the audit log shows no query ran for a refused call.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.mcp.conftest import answer, call_tools, refusal
from tests.mcp.test_currency import admin_server  # noqa: F401 (the fixture: an admin over two currencies)

HOSTILE = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["usd", "US'D", "USD\n", "USD ", " USD", "US\x00", "E*/", "ÉUR", "ＵＳＤ", "USDX", "'; DROP TABLE x; --", "E" * 10_000]),
).filter(lambda s: not re.fullmatch(r"[A-Z]{3}", s) and s != "null")
# The MCP SDK reads a string argument that is JSON text as that JSON (clients that double-encode): "null" is
# then no currency at all, the same as leaving it out (tested below), never a currency of its own.


@pytest.mark.parametrize("tool", ["resource_detail", "waste_findings"])
def test_a_malformed_currency_is_refused_before_any_query(admin_server, two_currencies, tool, tmp_path):  # noqa: F811
    args = {"snapshot": two_currencies["snapshot"].isoformat()}
    if tool == "resource_detail":
        args["resource_id"] = two_currencies["volume"]
    seen: list[str] = []

    @settings(max_examples=40, deadline=None)
    @given(currency=HOSTILE)
    def draw(currency):
        seen.append(currency)

    draw()
    results = call_tools(admin_server, [(tool, {**args, "currency": c}) for c in seen])
    for currency, result in zip(seen, results, strict=True):
        assert result.is_error, f"currency={currency!r} was accepted"
        message = refusal(result)
        assert "currency" in message.lower(), (currency, message)
    audit = tmp_path / "audit.jsonl"
    assert not audit.exists() or audit.read_text() == ""  # refused by the schema: nothing reached the engine


@pytest.mark.parametrize("tool", ["resource_detail", "waste_findings"])
def test_a_well_formed_code_the_data_lacks_is_said_and_relabels_nothing(admin_server, two_currencies, tool, tmp_path):  # noqa: F811
    args = {"snapshot": two_currencies["snapshot"].isoformat(), "currency": "ZZZ"}
    if tool == "resource_detail":
        args["resource_id"] = two_currencies["volume"]
    body = answer(call_tools(admin_server, [(tool, args)])[0])
    assert body["currency"] in body["currencies"] and body["currency"] != "ZZZ"
    assert any("ZZZ" in note for note in body["notes"])
    assert (tmp_path / "audit.jsonl").read_text()  # the audit log the refusals above leave empty is this one


def test_the_text_null_is_no_currency_as_the_sdk_reads_it(admin_server, two_currencies):  # noqa: F811
    args = {"snapshot": two_currencies["snapshot"].isoformat()}
    as_null, omitted = call_tools(admin_server, [("waste_findings", {**args, "currency": "null"}), ("waste_findings", args)])
    assert answer(as_null)["currency"] == answer(omitted)["currency"] and answer(as_null)["notes"] == answer(omitted)["notes"]
