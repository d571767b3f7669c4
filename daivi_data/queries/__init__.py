"""Named queries: SQL in Athena (Trino) dialect with bound `:name` parameters.

One module per lakehouse builds `Query` objects. Values are always bound
parameters; identifiers (group-by dimension, tag key position, sort column)
come only from allow-lists in `daivi_data.catalog` and are validated before
any SQL text is built.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp

from daivi_data.errors import InvalidRequest

ParamValue = str | int | float | bool | dt.date | dt.datetime | tuple
_SCALAR_TYPES = (str, int, float, bool, dt.date, dt.datetime)
MAX_LIST_PARAM = 5_000


@dataclass(frozen=True)
class Query:
    name: str
    sql: str
    params: tuple[tuple[str, ParamValue], ...] = ()

    @property
    def param_dict(self) -> dict[str, ParamValue]:
        return dict(self.params)


def _check_value(query_name: str, key: str, value: object) -> ParamValue:
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        if len(items) > MAX_LIST_PARAM:
            raise InvalidRequest(f"Too many values for {key} ({len(items)}); at most {MAX_LIST_PARAM}.")
        if not items:
            raise InvalidRequest(f"Parameter {key} of {query_name} is an empty list.")
        for item in items:
            if not isinstance(item, _SCALAR_TYPES) or isinstance(item, bool) != isinstance(items[0], bool):
                raise InvalidRequest(f"Parameter {key} of {query_name} has a value of the wrong type: {item!r}.")
        return tuple(items)
    if value is None or not isinstance(value, _SCALAR_TYPES):
        raise InvalidRequest(f"Parameter {key} of {query_name} has a value of the wrong type: {value!r}.")
    if isinstance(value, float) and value != value:
        raise InvalidRequest(f"Parameter {key} of {query_name} is not a number.")
    return value


@lru_cache(maxsize=1024)
def placeholder_names(sql: str) -> tuple[str, ...]:
    """Named placeholders of an Athena SQL text, in order of first appearance."""
    names: list[str] = []
    for node in sqlglot.parse_one(sql, read="athena").find_all(exp.Placeholder):
        if not node.args.get("this"):
            raise InvalidRequest("Use named parameters (:name), not '?'.")
        if node.name not in names:
            names.append(node.name)
    return tuple(names)


def make_query(name: str, sql: str, **params: object) -> Query:
    """A `Query` whose parameters are checked against the placeholders of its SQL."""
    expected = set(placeholder_names(sql))
    given = set(params)
    if expected != given:
        missing, extra = sorted(expected - given), sorted(given - expected)
        raise InvalidRequest(f"Query {name}: missing parameters {missing}, unexpected {extra}.")
    checked = tuple((k, _check_value(name, k, params[k])) for k in sorted(params))
    return Query(name=name, sql=sql, params=checked)
