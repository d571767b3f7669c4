"""Bound parameters for Athena: `:name` placeholders -> `?` and typed, quoted execution parameters.

Athena's `ExecutionParameters` (awswrangler `paramstyle="qmark"`) are pieces of
SQL text that Athena substitutes for the `?` markers in order, so each value
must be a literal of the right type, quoted so no value can change the
statement around it. `athena_literal` is the one place that makes those
literals; `to_qmark` rewrites a query's `:name` placeholders into `?` markers in
order of appearance (a repeated name repeats its value) and maps the default
database names onto the configured ones.

Date partition keys declared `string` in Glue (what a Glue crawler declares for
`snapshot_date=2026-03-01/` folders) are `text_dates`: a value compared with
one is sent as its ISO text ('2026-03-01', which sorts like the date), so the
comparison stays a plain partition predicate Athena prunes with; every other
use of the column reads `CAST(column AS DATE)`, so results have the contract's
type.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from functools import lru_cache

import sqlglot
from sqlglot import exp

from daivi_data.errors import InvalidRequest

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
_MARKER = "daivi_p{}_"
_MARKER_RE = re.compile(r"daivi_p(\d+)_")


def athena_literal(value: object) -> str:
    """A typed Athena (Trino) literal for `value`: 'text', 42, 1.5E0, true, DATE '…', TIMESTAMP '…', ARRAY[…]."""
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        if not BIGINT_MIN <= value <= BIGINT_MAX:
            raise InvalidRequest(f"The number {value} is outside Athena's BIGINT range.")
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidRequest(f"{value} is not a number Athena can compare with.")
        text = repr(value).upper()
        # A bare 1.5 is a DECIMAL in Trino; the exponent makes it a DOUBLE, like the Python value.
        return text if "E" in text else f"{text}E0"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}.{value.microsecond // 1000:03d}'"
    if isinstance(value, dt.date):
        return f"DATE '{value:%Y-%m-%d}'"
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidRequest("Text values cannot contain a NUL character.")
        # Trino string literals have no backslash escapes: doubling the quote is the whole job.
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (tuple, list)):
        if not value:
            raise InvalidRequest("An empty list cannot be bound as a parameter.")
        return "ARRAY[" + ", ".join(athena_literal(v) for v in value) + "]"
    raise InvalidRequest(f"Values of type {type(value).__name__} cannot be bound as Athena parameters.")


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.In)


def _text_date_comparand(node: exp.Expr, text_dates: frozenset[str]) -> bool:
    """Whether `node` (a placeholder or a DATE literal) is compared with a text date column."""
    parent = node.parent
    if not isinstance(parent, _COMPARISONS):
        return False
    sides = [parent.this] if isinstance(parent, exp.Between | exp.In) else [parent.left, parent.right]
    return any(isinstance(side, exp.Column) and side.name.lower() in text_dates for side in sides if side is not node)


def _as_text_dates(tree: exp.Expr, text_dates: frozenset[str]) -> set[str]:
    """Adapt `tree` to date columns stored as text; the placeholder names whose values must be sent as text."""
    as_text = {p.name for p in tree.find_all(exp.Placeholder) if _text_date_comparand(p, text_dates)}
    for literal in list(tree.find_all(exp.Cast)):  # DATE '2026-03-01' compared with a text date: the text itself
        if literal.to.is_type("date") and isinstance(literal.this, exp.Literal) and _text_date_comparand(literal, text_dates):
            literal.replace(literal.this.copy())
    for column in list(tree.find_all(exp.Column)):
        if column.name.lower() not in text_dates or isinstance(column.parent, _COMPARISONS) and any(
                isinstance(n, exp.Placeholder | exp.Literal) for n in column.parent.iter_expressions()):
            continue
        cast = exp.cast(column.copy(), "date")
        in_select_list = isinstance(column.parent, exp.Select) and column.arg_key == "expressions"
        column.replace(exp.alias_(cast, column.name) if in_select_list else cast)
    return as_text


@lru_cache(maxsize=512)
def _qmark_template(sql: str, database_map: tuple[tuple[str, str], ...],
                    text_dates: frozenset[str] = frozenset()) -> tuple[str, tuple[str, ...], frozenset[str]]:
    """(SQL with `?` markers and configured database names, placeholder names in marker order, names sent as text)."""
    try:
        tree = sqlglot.parse_one(sql, read="athena")
    except sqlglot.errors.ParseError as e:
        raise InvalidRequest(f"The query is not valid Athena SQL: {e.errors[0]['description'] if e.errors else e}.") from None
    as_text = _as_text_dates(tree, text_dates) if text_dates else set()
    names: list[str] = []
    for node in list(tree.find_all(exp.Placeholder)):
        if not node.args.get("this"):  # a positional `?` (sqlglot names it "?")
            raise InvalidRequest("Use named parameters (:name), not '?'.")
        names.append(node.name)
        node.replace(exp.column(_MARKER.format(len(names) - 1)))
    renames = dict(database_map)
    if renames:
        for table in tree.find_all(exp.Table):
            if table.db and table.db in renames:
                table.set("db", exp.to_identifier(renames[table.db]))
    text = tree.sql(dialect="athena")
    # sqlglot walks the tree, not the text: order the markers as they appear in the SQL sent.
    order = [int(m.group(1)) for m in _MARKER_RE.finditer(text)]
    if sorted(order) != list(range(len(names))):
        raise InvalidRequest("A query parameter could not be placed; report this query to the maintainers.")
    return _MARKER_RE.sub("?", text), tuple(names[i] for i in order), frozenset(as_text)


def _date_text(value: object) -> object:
    """A date as the ISO text a `string` partition key holds; anything else unchanged."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, tuple):
        return tuple(_date_text(v) for v in value)
    return value


def to_qmark(sql: str, params: Mapping[str, object], database_map: dict[str, str] | None = None,
             text_dates: frozenset[str] = frozenset()) -> tuple[str, list[str]]:
    """Athena SQL with `:name` placeholders -> (SQL with `?`, execution parameters in order).

    `database_map` renames databases (default name -> configured name) in table
    references; `text_dates` names the date partition keys Glue declares `string`.
    Every placeholder must have a value; a name used twice gets its value twice.
    """
    mapping = tuple(sorted((k, v) for k, v in (database_map or {}).items() if k != v))
    text, names, as_text = _qmark_template(sql, mapping, frozenset(c.lower() for c in text_dates))
    missing = sorted(set(names) - set(params))
    if missing:
        raise InvalidRequest(f"No value for query parameter(s) {', '.join(missing)}.")
    return text, [athena_literal(_date_text(params[n]) if n in as_text else params[n]) for n in names]
