"""Named queries: SQL in Athena (Trino) dialect with bound `:name` parameters.

One module per lakehouse builds `Query` objects. Values are always bound
parameters; identifiers (group-by dimension, tag key position, sort column)
come only from allow-lists in `daivi_data.catalog` and are validated before
any SQL text is built.

Athena binds execution parameters only in a WHERE clause, so `make_query`
refuses a placeholder anywhere else. Outside WHERE a query uses:
- `sql_constant(value)` for what the program itself decides or has validated
  into a quote-free form: LIMIT / OFFSET and other integers, dates computed
  from `datetime.date`, labels such as '(none)', tag keys (AWS's tag-key
  alphabet has no quote). Never text a user typed, never a value from data.
- for values from data that a SELECT must test (e.g. the series to keep
  apart from "Others"): a two-row constant relation joined to every row,
  whose flag the WHERE clause ties to the bound test, e.g.
  `CROSS JOIN (VALUES true, false) AS k (kept) WHERE kept = coalesce(contains(:keep, g), false)`;
  the SELECT then reads `kept`. One scan, values bound in WHERE.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import ParamSpec, TypeVar

import sqlglot
from sqlglot import exp

from daivi_data.aws.literals import athena_literal
from daivi_data.errors import InvalidRequest

ParamValue = str | int | float | bool | dt.date | dt.datetime | tuple
__all__ = ["MAX_LIST_PARAM", "ParamValue", "Query", "built_once", "make_query", "outside_where", "placeholder_names",
           "sql_constant"]

_SCALAR_TYPES = (str, int, float, bool, dt.date, dt.datetime)
MAX_LIST_PARAM = 5_000
# Text that may be written into SQL: no quote, no backslash, no newline (AWS tag keys and program labels fit).
_CONSTANT_TEXT = re.compile(r"[\w .:/=+@()-]{1,128}")


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


def outside_where(placeholder: exp.Expr) -> bool:
    """True when a placeholder is not in a WHERE clause (of its own SELECT): Athena binds `?` only there.

    Athena's execution parameters may stand only in the WHERE clause ("Syntax like
    SELECT ? FROM table is not supported"). The nearest enclosing WHERE or SELECT
    decides: a value in a SELECT list, CASE, JOIN ... ON, HAVING, LIMIT or OFFSET
    meets its SELECT first.
    """
    return not isinstance(placeholder.find_ancestor(exp.Where, exp.Select), exp.Where)


def sql_constant(value: object) -> str:
    """`value` as an Athena literal written into the SQL text, for the places Athena cannot bind (outside WHERE).

    Only values whose text cannot leave the literal: integers, dates and
    timestamps (typed objects, formatted here), and short text in a quote-free
    alphabet. Anything else is refused: bind it in a WHERE clause instead.
    """
    if isinstance(value, (bool, int, dt.date)):  # datetime is a date: typed objects, formatted by the one literal maker
        return athena_literal(value)
    if isinstance(value, str) and _CONSTANT_TEXT.fullmatch(value):
        return f"'{value}'"
    raise InvalidRequest(f"{value!r} cannot be written into a query; it must be bound in a WHERE clause.")


P = ParamSpec("P")
R = TypeVar("R")


def built_once(builder: Callable[P, R]) -> Callable[P, R]:
    """`builder` built once per distinct arguments: building and printing a sqlglot tree costs milliseconds on every
    rerun of a page, and the same arguments build the same (frozen) `Query`.

    Arguments are told apart by type as well as value (`typed`: 1, 1.0 and True build different queries). Unhashable
    arguments (a list of fields) build afresh. A refusal (`InvalidRequest`) is raised again on every call, never cached.
    """
    cached = lru_cache(maxsize=256, typed=True)(builder)
    call_cached: Callable[..., R] = cached  # lru_cache's own signature asks for hashable arguments: checked below

    @functools.wraps(builder)
    def build(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            hash((args, tuple(kwargs.values())))
        except TypeError:
            return builder(*args, **kwargs)
        return call_cached(*args, **kwargs)

    build.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return build


@lru_cache(maxsize=1024)
def placeholder_names(sql: str) -> tuple[str, ...]:
    """Named placeholders of an Athena SQL text, in order of first appearance."""
    names: list[str] = []
    for node in sqlglot.parse_one(sql, read="athena").find_all(exp.Placeholder):
        if not node.args.get("this"):
            raise InvalidRequest("Use named parameters (:name), not '?'.")
        if outside_where(node):
            raise InvalidRequest(f"Parameter :{node.name} is outside a WHERE clause, where Athena cannot bind it.")
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
