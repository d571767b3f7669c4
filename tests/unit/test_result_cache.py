"""`ExactCache`: values by exact key, with a time to live, a size bound, one computation per key, and copies that
a page may change without changing what the next rerun (or another session) is served."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from daivi_data.result_cache import ExactCache, exact_key, handed_out


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_key_is_computed_once_and_then_served():
    cache, calls = ExactCache(60, 10), []
    assert cache.get_or_compute(("a",), lambda: calls.append(1) or "A") == ("A", True)
    assert cache.get_or_compute(("a",), lambda: calls.append(1) or "other") == ("A", False)
    assert cache.get_or_compute(("b",), lambda: "B") == ("B", True)
    assert calls == [1]


def test_entries_expire_after_their_time_to_live():
    clock = Clock()
    cache = ExactCache(600, 10, clock=clock)
    cache.get_or_compute("k", lambda: 1)
    clock.now = 599.9
    assert cache.get_or_compute("k", lambda: 2) == (1, False)
    clock.now = 600.0
    assert cache.get_or_compute("k", lambda: 2) == (2, True)


def test_expired_entries_are_dropped_at_the_next_miss_whatever_their_key():
    clock = Clock()
    cache = ExactCache(600, 10, clock=clock)
    cache.get_or_compute("old", lambda: "a large frame nobody asks for again")
    clock.now = 700.0
    cache.get_or_compute("new", lambda: 1)
    assert len(cache) == 1


def test_past_the_bound_the_least_recently_used_entry_goes():
    cache = ExactCache(60, 2)
    cache.get_or_compute("a", lambda: 1)
    cache.get_or_compute("b", lambda: 2)
    cache.get_or_compute("a", lambda: 0)  # used: "b" is now the least recently used
    cache.get_or_compute("c", lambda: 3)
    assert len(cache) == 2
    assert cache.get_or_compute("a", lambda: 0) == (1, False)
    assert cache.get_or_compute("b", lambda: 20) == (20, True)


def test_an_exception_is_raised_to_its_caller_and_nothing_is_stored():
    cache = ExactCache(60, 10)

    def fail() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError):
        cache.get_or_compute("k", fail)
    assert len(cache) == 0
    assert cache.get_or_compute("k", lambda: 1) == (1, True)


def test_clear_forgets_everything_and_a_value_computed_across_it_is_not_stored():
    cache = ExactCache(60, 10)
    cache.get_or_compute("old", lambda: 1)
    cache.clear()
    assert len(cache) == 0

    def computed_while_cleared() -> str:
        cache.clear()  # e.g. an import finished while this query read the old files
        return "stale"

    assert cache.get_or_compute("k", computed_while_cleared) == ("stale", True)
    assert cache.get_or_compute("k", lambda: "fresh") == ("fresh", True)


def test_concurrent_misses_of_one_key_compute_it_once():
    cache, calls, results = ExactCache(60, 10), [], []
    started = threading.Event()

    def slow() -> str:
        calls.append(1)
        started.set()
        time.sleep(0.2)
        return "v"

    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute("k", slow))) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]
    assert sorted(computed for _, computed in results) == [False, False, False, False, True]
    assert {value for value, _ in results} == {"v"}


@dataclass(frozen=True)
class Result:
    table: pd.DataFrame
    totals: dict
    series: list


def _result() -> Result:
    return Result(pd.DataFrame({"account": ["a", "b"], "cost": [1.5, -2.0]}), {"total": -0.5, "by": {"a": 1.5}},
                  [1, [2, 3]])


def test_changes_to_a_served_frame_never_reach_the_entry():
    cache = ExactCache(60, 10)
    first, _ = cache.get_or_compute("k", lambda: pd.DataFrame({"cost": [1.0, 2.0], "name": ["x", "y"]}))
    first.loc[0, "cost"] = 99.0
    first["name"] = first["name"].str.upper()
    first["extra"] = 1
    served, _ = cache.get_or_compute("k", lambda: None)
    served.iloc[1, 0] = -1.0
    served.drop(columns=["name"], inplace=True)
    again, computed = cache.get_or_compute("k", lambda: None)
    assert not computed
    pd.testing.assert_frame_equal(again, pd.DataFrame({"cost": [1.0, 2.0], "name": ["x", "y"]}))


def test_changes_inside_a_served_dataclass_dict_list_or_array_never_reach_the_entry():
    cache = ExactCache(60, 10)
    served, _ = cache.get_or_compute("k", _result)
    served.table.loc[0, "cost"] = 0.0
    served.totals["total"] = 0
    served.totals["by"]["a"] = 0
    served.series[1].append(4)
    array, _ = cache.get_or_compute("arr", lambda: np.arange(3))
    array[0] = 7
    again, _ = cache.get_or_compute("k", lambda: None)
    pd.testing.assert_frame_equal(again.table, _result().table)
    assert (again.totals, again.series) == (_result().totals, _result().series)
    assert cache.get_or_compute("arr", lambda: None)[0].tolist() == [0, 1, 2]


def test_handed_out_copies_share_the_frame_data_and_keep_immutable_values():
    frame = pd.DataFrame({"cost": np.arange(1000.0)})
    copy = handed_out(frame)
    assert copy is not frame and np.shares_memory(copy["cost"].to_numpy(), frame["cost"].to_numpy())
    stamp, text = pd.Timestamp("2026-11-01"), "x"
    assert handed_out(stamp) is stamp and handed_out(text) is text


def test_exact_keys_tell_apart_equal_values_of_other_types():
    assert exact_key(1) != exact_key(True) != exact_key(1.0)
    assert exact_key(("a", (1,))) != exact_key(("a", (True,)))
    assert exact_key(frozenset({1})) != exact_key(frozenset({1.0}))
    assert exact_key(dt.date(2026, 1, 1)) != exact_key(pd.Timestamp("2026-01-01"))
    assert exact_key(("a", (1,))) == exact_key(("a", (1,)))


def test_exact_keys_of_frames_follow_their_content():
    frame = pd.DataFrame({"a": [1, 2, 3]})
    assert exact_key((frame,)) == exact_key((frame.copy(),))
    assert exact_key((frame,)) != exact_key((frame.head(2),))
    assert exact_key((frame,)) != exact_key((frame.astype(float),))
    assert exact_key(([1, 2],)) != exact_key(([1, 3],))
