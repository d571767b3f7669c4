"""`built_once`: a query builder memoized by its arguments builds each distinct query once, and only that query."""

from __future__ import annotations

import pytest

from daivi_data.errors import InvalidRequest
from daivi_data.queries import Query, built_once, make_query
from daivi_data.queries import cur as q

BUILT: list[tuple] = []


@built_once
def limited(n: object, names: object = ()) -> Query:
    BUILT.append((n, names))
    if n == 0:
        raise InvalidRequest("n must be positive")
    return make_query("t.limited", "SELECT 1 WHERE x = :n", n=n)


@pytest.fixture(autouse=True)
def _fresh():
    limited.cache_clear()
    BUILT.clear()


def test_the_same_arguments_build_once_and_get_the_same_query():
    assert limited(5) is limited(5)
    assert limited(6).params == (("n", 6),)
    assert BUILT == [(5, ()), (6, ())]


def test_equal_values_of_other_types_build_their_own_query():
    assert limited(1).params == (("n", 1),)
    assert limited(True).params == (("n", True),)  # True == 1, yet not the query built for 1
    assert limited(1.0).params == (("n", 1.0),)
    assert len(BUILT) == 3


def test_unhashable_arguments_build_afresh_every_time():
    first, second = limited(5, ["a"]), limited(5, ["a"])
    assert first == second and first is not second
    assert len(BUILT) == 2


def test_a_refusal_is_raised_on_every_call():
    for _ in range(2):
        with pytest.raises(InvalidRequest):
            limited(0)
    assert len(BUILT) == 2


def test_cur_builders_are_memoized_and_still_validate():
    assert q.coverage_by_day("2026-09", "2026-11", "USD") is q.coverage_by_day("2026-09", "2026-11", "USD")
    assert q.coverage_by_day("2026-08", "2026-11", "USD") != q.coverage_by_day("2026-09", "2026-11", "USD")
    for _ in range(2):
        with pytest.raises(InvalidRequest):
            q.coverage_by_day("2026-12", "2026-11", "USD")


def test_logs_builders_are_memoized_per_filter_and_tell_searches_apart():
    import datetime as dt

    from daivi_data.queries import splunk as sq

    week = sq.relative_range("7d", dt.datetime(2026, 11, 1))
    pool, again = sq.EventFilter.of(week, '"connection pool exhausted"'), sq.EventFilter.of(week, '"connection pool exhausted"')
    assert sq.event_summary(pool) is sq.event_summary(again)
    assert sq.event_summary(pool) != sq.event_summary(sq.EventFilter.of(week, '"connection pool"'))
    assert sq.event_summary(pool) != sq.event_summary(sq.EventFilter.of(sq.relative_range("24h", dt.datetime(2026, 11, 1)),
                                                                         '"connection pool exhausted"'))


def test_a_compiled_search_hashes_like_it_compares():
    from daivi_data.search_language import CompiledSearch

    one, other_order = CompiledSearch("a = :p0 AND b = :p1", {"p0": "x", "p1": 2}), CompiledSearch("a = :p0 AND b = :p1", {"p1": 2, "p0": "x"})
    assert one == other_order and hash(one) == hash(other_order)
    assert one != CompiledSearch("a = :p0 AND b = :p1", {"p0": "y", "p1": 2})
