"""Query objects: parameters checked against placeholders and typed; identifiers allow-listed."""

import datetime as dt

import pytest

from daivi_data import catalog
from daivi_data.errors import InvalidRequest
from daivi_data.queries import MAX_LIST_PARAM, make_query, placeholder_names, sql_constant


def test_placeholders_in_order_of_first_use():
    sql = "SELECT 1 FROM t WHERE a = :b AND c BETWEEN :a AND :b"
    assert placeholder_names(sql) == ("b", "a")


def test_missing_and_unexpected_parameters_are_named():
    with pytest.raises(InvalidRequest, match=r"missing parameters \['a'\], unexpected \['z'\]"):
        make_query("q", "SELECT 1 FROM t WHERE x = :a", z=1)


@pytest.mark.parametrize("value", [None, object(), {"a": 1}, float("nan"), [], [1, "a", object()]])
def test_values_of_the_wrong_type_are_refused(value):
    with pytest.raises(InvalidRequest):
        make_query("q", "SELECT 1 FROM t WHERE x = :a", a=value)


def test_lists_become_tuples_and_are_bounded():
    q = make_query("q", "SELECT 1 FROM t WHERE contains(:a, x)", a=["x", "y"])
    assert q.param_dict["a"] == ("x", "y")
    with pytest.raises(InvalidRequest, match="Too many values"):
        make_query("q", "SELECT 1 FROM t WHERE contains(:a, x)", a=[str(i) for i in range(MAX_LIST_PARAM + 1)])


def test_injection_text_stays_a_value():
    evil = "x'; DROP TABLE daivi_billing.cost_daily; --"
    q = make_query("q", "SELECT * FROM daivi_billing.cost_daily WHERE account_id = :a", a=evil)
    assert evil not in q.sql
    assert q.param_dict["a"] == evil


def test_positional_placeholders_are_refused():
    with pytest.raises(InvalidRequest, match="named parameters"):
        placeholder_names("SELECT ? FROM t")


def test_dates_are_accepted():
    q = make_query("q", "SELECT 1 FROM t WHERE d = :d", d=dt.date(2026, 1, 1))
    assert q.param_dict == {"d": dt.date(2026, 1, 1)}


def test_identifier_allow_list():
    dims = {"service": "service_code", "account": "account_id"}
    assert catalog.require_identifier("service", dims, "Group by") == "service_code"
    with pytest.raises(InvalidRequest, match="Group by 'service_code; --' is not one of: account, service"):
        catalog.require_identifier("service_code; --", dims, "Group by")
    assert catalog.require_identifier("region", ("region",), "Column") == "region"


def test_catalog_lookups_name_the_unknown():
    with pytest.raises(InvalidRequest, match="Unknown table 'nope'"):
        catalog.lakehouse("billing").table("nope")
    with pytest.raises(InvalidRequest, match="Unknown lakehouse"):
        catalog.lakehouse("hr")
    assert "billing_period" in catalog.BILLING.table("cost_daily").partition_keys


@pytest.mark.parametrize("sql", [
    "SELECT :a FROM t",
    "SELECT CASE WHEN x > :a THEN 1 ELSE 0 END FROM t WHERE y = 1",
    "SELECT x FROM t WHERE y = 1 LIMIT :a",
    "SELECT x FROM t WHERE y = 1 OFFSET :a",
    "SELECT x, COUNT(*) FROM t GROUP BY x HAVING COUNT(*) > :a",
    "SELECT x FROM t JOIN u ON u.k = t.k AND u.v = :a",
    "SELECT x FROM t WHERE y > (SELECT max(:a) FROM u)",
])
def test_placeholders_outside_where_are_refused_as_athena_refuses_them(sql):
    with pytest.raises(InvalidRequest, match="outside a WHERE clause"):
        placeholder_names(sql)


def test_placeholders_in_any_where_clause_are_fine():
    sql = "WITH c AS (SELECT x FROM u WHERE v = :a) SELECT x FROM t WHERE y IN (SELECT x FROM c WHERE x <> :b)"
    assert placeholder_names(sql) == ("a", "b")


@pytest.mark.parametrize("value, text", [
    (25, "25"), (dt.date(2026, 1, 2), "DATE '2026-01-02'"),
    (dt.datetime(2026, 1, 2, 3, 4, 5), "TIMESTAMP '2026-01-02 03:04:05.000'"), ("(none)", "'(none)'"),
    ("team:cost-center", "'team:cost-center'"),
])
def test_sql_constants_are_typed_literals(value, text):
    assert sql_constant(value) == text


@pytest.mark.parametrize("value", ["a'b", "x\\", "two\nlines", "", "k" * 129, 1.5, None, ("a",), 2**63])
def test_sql_constants_refuse_anything_that_could_leave_the_literal(value):
    with pytest.raises(InvalidRequest):
        sql_constant(value)
