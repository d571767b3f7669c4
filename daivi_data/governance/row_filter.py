"""Row filter expressions: the small subset of SQL that both Lake Formation and the embedded engine enforce.

A row filter is a boolean over the table's own columns: comparisons, IN / NOT
IN lists, BETWEEN, LIKE, IS [NOT] NULL, AND / OR / NOT, and literals (strings,
numbers, booleans, DATE '…'). Anything else (functions, subqueries, other
tables) is refused when the grants are loaded: the embedded engine turns the
filter into a pyarrow expression applied to the files before DuckDB sees a row,
so the role's relation physically holds only the rows the filter lets through.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import reduce

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import sqlglot
from sqlglot import exp

from daivi_data.errors import SettingsError

_COMPARISONS = {exp.EQ: "__eq__", exp.NEQ: "__ne__", exp.LT: "__lt__", exp.LTE: "__le__", exp.GT: "__gt__", exp.GTE: "__ge__"}
ALLOWED_NODES = (exp.And, exp.Or, exp.Not, exp.Paren, exp.In, exp.Between, exp.Like, exp.Is, exp.Null, exp.Boolean,
                 exp.Column, exp.Identifier, exp.Literal, exp.Neg, exp.Cast, exp.DataType, exp.Tuple, *_COMPARISONS)


@dataclass(frozen=True)
class RowFilter:
    text: str
    tree: exp.Expr
    columns: tuple[str, ...]

    def arrow_expression(self, schema: pa.Schema) -> ds.Expression:
        """The filter as a pyarrow dataset expression over `schema` (literals cast to the column types)."""
        return _to_arrow(self.tree, schema)


def parse_row_filter(text: str) -> RowFilter:
    """Parse and check a row filter; SettingsError naming what is not allowed."""
    try:
        tree = sqlglot.parse_one(text, read="athena")
    except sqlglot.errors.ParseError as e:
        raise SettingsError(f"not valid SQL: {e}.") from None
    for node in tree.walk():
        if not isinstance(node, ALLOWED_NODES):
            raise SettingsError(f"`{node.sql(dialect='athena')}` is not allowed in a row filter "
                                "(use comparisons, IN, BETWEEN, LIKE, IS NULL, AND/OR/NOT and literals).")
        if isinstance(node, exp.Column) and node.table:
            raise SettingsError(f"`{node.sql(dialect='athena')}`: name columns without a table in a row filter.")
        if isinstance(node, exp.Cast) and not (node.this.is_string and node.to.this == exp.DataType.Type.DATE):
            raise SettingsError("Only DATE 'YYYY-MM-DD' literals may be cast in a row filter.")
    columns = tuple(dict.fromkeys(c.name.lower() for c in tree.find_all(exp.Column)))
    if not columns:
        raise SettingsError("a row filter must test at least one column.")
    return RowFilter(text=text, tree=tree, columns=columns)


def _literal(node: exp.Expr, type_: pa.DataType | None) -> object:
    if isinstance(node, exp.Paren):
        return _literal(node.this, type_)
    if isinstance(node, exp.Neg):
        negated = _literal(node.this, type_)
        if not isinstance(negated, (int, float)):
            raise SettingsError(f"`{node.sql(dialect='athena')}` negates something that is not a number.")
        return -negated
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return node.this
    if isinstance(node, exp.Cast):
        return dt.date.fromisoformat(node.this.name)
    if isinstance(node, exp.Literal):
        if node.is_string:
            value: object = node.this
            if type_ is not None and pa.types.is_date(type_):
                value = dt.date.fromisoformat(node.this)
            return value
        number = node.this
        return float(number) if any(ch in number for ch in ".eE") else int(number)
    raise SettingsError(f"`{node.sql(dialect='athena')}` is not a literal.")


def _field(node: exp.Expr, schema: pa.Schema) -> tuple[ds.Expression, pa.DataType]:
    name = node.name.lower()
    if name not in schema.names:
        raise SettingsError(f"row filter column {name!r} is not in the table.")
    return pc.field(name), schema.field(name).type


def _scalar(value: object, type_: pa.DataType) -> pa.Scalar:
    return pa.scalar(value, type=type_)


def _to_arrow(node: exp.Expr, schema: pa.Schema) -> ds.Expression:
    if isinstance(node, exp.Paren):
        return _to_arrow(node.this, schema)
    if isinstance(node, exp.And):
        return _to_arrow(node.left, schema) & _to_arrow(node.right, schema)
    if isinstance(node, exp.Or):
        return _to_arrow(node.left, schema) | _to_arrow(node.right, schema)
    if isinstance(node, exp.Not):
        return ~_to_arrow(node.this, schema)
    if isinstance(node, exp.Boolean):
        return pc.scalar(node.this)
    if isinstance(node, (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE)):  # the keys of _COMPARISONS
        left, right = node.left, node.right
        if not isinstance(left, exp.Column):  # `'x' = col`: put the column first, flipping the operator
            flipped = {exp.LT: exp.GT, exp.GT: exp.LT, exp.LTE: exp.GTE, exp.GTE: exp.LTE}.get(type(node), type(node))
            return _to_arrow(flipped(this=right, expression=left), schema)
        field_, type_ = _field(left, schema)
        return getattr(field_, _COMPARISONS[type(node)])(_scalar(_literal(right, type_), type_))
    if isinstance(node, exp.In):
        field_, type_ = _field(node.this, schema)
        values = pa.array([_literal(v, type_) for v in node.expressions], type=type_)
        return field_.isin(values)
    if isinstance(node, exp.Between):
        field_, type_ = _field(node.this, schema)
        low, high = (_scalar(_literal(node.args[k], type_), type_) for k in ("low", "high"))
        return (field_ >= low) & (field_ <= high)
    if isinstance(node, exp.Like):
        field_, _type = _field(node.this, schema)
        return pc.match_like(field_, pattern=_literal(node.expression, None))
    if isinstance(node, exp.Is):
        field_, _type = _field(node.this, schema)
        return field_.is_null()
    raise SettingsError(f"`{node.sql(dialect='athena')}` cannot be enforced as a row filter.")


def conjunction(filters: list[ds.Expression]) -> ds.Expression | None:
    """AND of several expressions, or None for none."""
    return reduce(lambda a, b: a & b, filters) if filters else None
