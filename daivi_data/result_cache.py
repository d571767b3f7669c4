"""A process-wide cache of values by an exact key: the connection's query results and derived values.

`st.cache_data` hashed the content of every argument (frames included) and unpickled the value on
every hit: a third of a cached page rerun. Here the caller builds the key as a tuple of what
determines the value (principal, data and policy versions, the query or the function and its
inputs), Python hashes and compares it, and a hit hands out the stored value without unpickling.

- **Exact keys.** Two keys are one entry only when they are equal tuples. `exact_key` makes a key of
  inputs that tells equal values of different types apart (1, 1.0, True) and stands for an
  unhashable input (a frame, a list) by a digest of its content.
- **Shared, never corrupted.** Entries are shared by every session's script thread. A hit hands out
  copies that share the data: frames and series are shallow copies (pandas copies on write, so a
  change to one never reaches the entry), containers and dataclasses are rebuilt around them, numpy
  arrays are copied. A value of any other mutable kind is deep-copied.
- **Bounded.** Entries live `ttl_s` seconds (expired ones go at the next miss, so an idle app does not hold
  them); past `max_entries` the least recently used goes.
- **Computed once.** Concurrent misses of one key wait for the first to compute it; an exception is
  raised to its caller and nothing is stored. `clear()` drops every entry, and a value computed while
  it ran is not stored (it may have been read from what the clear was for).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import decimal
import enum
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")

# Values that cannot change after they are made: handed out as they are.
_IMMUTABLE = (str, bytes, int, float, complex, bool, type(None), dt.date, dt.time, dt.timedelta, decimal.Decimal, range,
              enum.Enum, pd.Timestamp, pd.Timedelta, pd.Period, pd.Index, np.generic)


class ExactCache:
    """Values by exact key, with a time to live, a size bound and one computation per key at a time."""

    def __init__(self, ttl_s: float, max_entries: int, clock: Callable[[], float] = time.monotonic):
        self.ttl_s, self.max_entries, self._clock = ttl_s, max_entries, clock
        self._entries: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self._generation = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> tuple[T, bool]:
        """(the value for `key`, whether this call computed it). A hit hands out a copy of the entry."""
        with self._lock:
            found = self._fresh(key)
            if found is not _MISSING:
                return handed_out(found), False
            key_lock = self._computing.setdefault(key, threading.Lock())
        try:
            with key_lock:
                with self._lock:
                    found = self._fresh(key)
                    generation = self._generation
                if found is not _MISSING:  # computed by the call this one waited for
                    return handed_out(found), False
                value = compute()
                stored = handed_out(value)  # the caller may change `value`; the entry is a copy it cannot reach
                with self._lock:
                    if generation == self._generation:
                        self._store(key, stored)
                return value, True
        finally:
            with self._lock:
                if self._computing.get(key) is key_lock:
                    del self._computing[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _fresh(self, key: Hashable) -> object:
        entry = self._entries.get(key)
        if entry is None:
            return _MISSING
        expires, value = entry
        if self._clock() >= expires:
            del self._entries[key]
            return _MISSING
        self._entries.move_to_end(key)
        return value

    def _store(self, key: Hashable, value: object) -> None:
        now = self._clock()
        for old in [k for k, (expires, _) in self._entries.items() if now >= expires]:  # a miss is rare: sweep on it
            del self._entries[old]
        self._entries[key] = (now + self.ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


_MISSING = object()


def handed_out(value: Any) -> Any:
    """A copy of `value` that shares its data but whose changes never reach `value` (nor `value`'s reach it)."""
    if isinstance(value, _IMMUTABLE) or callable(value) and not dataclasses.is_dataclass(value):
        return value
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return value.copy(deep=False)  # copy on write: a change to either copies the data it changes
    if isinstance(value, np.ndarray):
        return value.copy()
    kind = type(value)
    if kind is tuple:
        return tuple(handed_out(v) for v in value)
    if kind is list:
        return [handed_out(v) for v in value]
    if kind is dict:
        return {k: handed_out(v) for k, v in value.items()}
    if kind is frozenset and all(isinstance(v, _IMMUTABLE) for v in value):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = copy.copy(value)
        for f in dataclasses.fields(value):
            object.__setattr__(out, f.name, handed_out(getattr(value, f.name)))
        return out
    return copy.deepcopy(value)


def exact_key(value: Any) -> Hashable:
    """A hashable stand-in for `value` that equals another's only for values of the same types that are equal.

    Tuples and frozensets are taken apart (their items may be 1 and True, equal but not the same input). An
    unhashable value (a frame, a list, a dict) is stood for by a digest of its type and content, computed the
    way `st.cache_data` hashes arguments.
    """
    kind = type(value)
    if kind is tuple:
        return kind, tuple(exact_key(v) for v in value)
    if kind is frozenset:
        return kind, frozenset(exact_key(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return "content", kind, content_digest(value)
    return kind, value


def content_digest(value: Any) -> str:
    from streamlit.runtime.caching.cache_type import CacheType
    from streamlit.runtime.caching.hashing import update_hash

    hasher = hashlib.new("md5", usedforsecurity=False)
    update_hash(value, hasher=hasher, cache_type=CacheType.DATA)
    return hasher.hexdigest()
