"""The one helper that turns Python values into Athena literals, and the `:name` -> `?` rewrite."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlglot

from daivi_data.aws.literals import athena_literal, to_qmark
from daivi_data.errors import InvalidRequest

pytestmark = pytest.mark.aws


@pytest.mark.parametrize(("value", "literal"), [
    ("plain", "'plain'"),
    ("O'Reilly", "'O''Reilly'"),
    ("'; DROP TABLE x; --", "'''; DROP TABLE x; --'"),
    ("back\\slash", "'back\\slash'"),  # Trino has no backslash escapes: kept as is
    ("", "''"),
    ("ünïcødé", "'ünïcødé'"),
    (0, "0"),
    (-42, "-42"),
    (2**63 - 1, "9223372036854775807"),
    (True, "true"),
    (False, "false"),
    (1.5, "1.5E0"),
    (1e-7, "1E-07"),
    (-2.0, "-2.0E0"),
    (dt.date(2026, 2, 28), "DATE '2026-02-28'"),
    (dt.datetime(2026, 2, 28, 23, 59, 58, 123456), "TIMESTAMP '2026-02-28 23:59:58.123'"),
    (dt.datetime(2026, 3, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))), "TIMESTAMP '2026-02-28 23:00:00.000'"),
    (("a", "b'c"), "ARRAY['a', 'b''c']"),
    ([1, 2], "ARRAY[1, 2]"),
    ((dt.date(2026, 1, 1),), "ARRAY[DATE '2026-01-01']"),
])
def test_literal_is_typed_and_quoted(value, literal):
    assert athena_literal(value) == literal


@pytest.mark.parametrize("value", ["'; DROP TABLE x; --", "a'b''c", "x' OR '1'='1", "\n'\t"])
def test_a_quoted_string_parses_back_to_the_same_value(value):
    parsed = sqlglot.parse_one(f"SELECT {athena_literal(value)}", read="athena").expressions[0]
    assert isinstance(parsed, sqlglot.exp.Literal) and parsed.this == value


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 2**63, None, b"bytes", {"a": 1}, (), "nul\x00"])
def test_values_athena_cannot_take_are_refused(value):
    with pytest.raises(InvalidRequest):
        athena_literal(value)


def test_placeholders_become_qmarks_in_order_of_appearance_with_repeats():
    sql = "SELECT a FROM daivi_billing.cost_daily WHERE b = :second AND a = :first AND c = :second"
    text, params = to_qmark(sql, {"first": 1, "second": "x"})
    assert text == "SELECT a FROM daivi_billing.cost_daily WHERE b = ? AND a = ? AND c = ?"
    assert params == ["'x'", "1", "'x'"]


def test_order_follows_the_text_through_ctes_and_subqueries():
    sql = ("WITH w AS (SELECT * FROM daivi_billing.cost_daily WHERE billing_period = :p) "
           "SELECT * FROM w WHERE usage_date > :d AND account_id IN (SELECT account_id FROM daivi_billing.accounts WHERE ou = :ou) "
           "LIMIT 10")
    text, params = to_qmark(sql, {"p": "2026-01", "d": dt.date(2026, 1, 2), "ou": "Payments"})
    assert text.count("?") == 3
    assert params == ["'2026-01'", "DATE '2026-01-02'", "'Payments'"]


def test_database_names_are_mapped_only_for_table_references():
    sql = "SELECT 'daivi_billing' AS label, x.daivi_billing FROM daivi_billing.cost_daily AS x WHERE p = :p"
    text, _ = to_qmark(sql, {"p": "1"}, {"daivi_billing": "prod_billing"})
    assert "FROM prod_billing.cost_daily" in text
    assert "'daivi_billing' AS label" in text and "x.daivi_billing" in text


def test_missing_value_and_positional_marks_are_refused():
    with pytest.raises(InvalidRequest, match="No value for query parameter"):
        to_qmark("SELECT 1 WHERE a = :a", {})
    with pytest.raises(InvalidRequest, match="named parameters"):
        to_qmark("SELECT 1 WHERE a = ?", {})
