"""The SQL workbench's guard: user SQL in, one read-only, row-limited `Query` out.

Everything here works on the parsed sqlglot tree (Athena dialect), never on the
text with regular expressions, so a `;` inside a string literal or a comment is
harmless and `DROP` in a comment is just a comment. The guard refuses, with a
message that says why: several statements, anything that is not a SELECT/WITH/
set operation (DDL, DML, UNLOAD, CTAS, SELECT ... INTO, SHOW, EXPLAIN, CALL,
PRAGMA, ...), table functions, parameters, and — when the principal's grants are
given — tables and columns outside them (the same `governance.govern` the
embedded engine applies, so Athena users get the refusal before paying for a
scan). It applies a row limit when the query has none (or a larger one), and
finds partitioned tables read without a predicate on their partition key for
the cost guard.

The resulting `Query` runs through `connection.run_open_ended(query, principal,
checked.max_rows)`: governed, cached per principal and audited like every
view's query, but on Athena through a PyAthena cursor that reads only the first
`max_rows` rows and cancels the query at the time limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
import sqlglot
from sqlglot import exp

from daivi_data.errors import InvalidRequest
from daivi_data.governance import RoleGrants, govern, referenced_tables
from daivi_data.queries import Query, make_query

QUERY_NAME = "workbench.adhoc"
WORKBENCH_ROW_LIMIT = 10_000  # rows shown at most; the query fetches one more to know it was cut
MAX_SQL_CHARS = 20_000  # the SQL travels in the URL (?sql=), which browsers and proxies cap

ALLOWED_TOP_LEVEL = (exp.Select, exp.SetOperation, exp.Subquery)
PRUNING_PREDICATES = (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Between)
READ_ONLY_HINT = "The workbench is read-only: write one SELECT (or WITH … SELECT) query."


class EmptySql(InvalidRequest):
    title = "Nothing to run"


class SqlSyntaxError(InvalidRequest):
    title = "SQL syntax error"


class RefusedStatement(InvalidRequest):
    title = "Not allowed in the workbench"


@dataclass(frozen=True)
class PartitionWarning:
    """A partitioned table read without a predicate on its partition key."""

    table: str  # database.table
    partition_key: str

    def message(self) -> str:
        return (f"`{self.table}` is read without a filter on its partition key `{self.partition_key}`: "
                f"on Athena this scans (and bills) every partition. Add e.g. `WHERE {self.partition_key} = …`.")


@dataclass(frozen=True)
class CheckedSql:
    """User SQL that passed the guard, and the SQL that will run."""

    sql: str  # Athena SQL as it runs: one statement, row limit applied
    row_limit: int  # rows shown at most
    fetch_limit: int | None  # the LIMIT the guard set (row_limit + 1), None when the user's own LIMIT stands
    tables: tuple[str, ...]  # database.table names read
    partition_warnings: tuple[PartitionWarning, ...]

    @property
    def max_rows(self) -> int:
        """Rows to fetch: one more than are shown, so the page can tell that the result was cut."""
        return self.row_limit + 1

    def query(self) -> Query:
        """The `Query` for `connection.run_open_ended`: no parameters (user SQL cannot have any)."""
        return make_query(QUERY_NAME, self.sql)


def adhoc_query(text: str) -> Query:
    """User SQL as a `Query`, unparsed: it may be what the guard just refused (the audit log records it as typed)."""
    return Query(QUERY_NAME, text)


@lru_cache(maxsize=256)  # the page re-checks the same text on every rerun (chart options, history clicks)
def check_sql(text: str | None, grants: RoleGrants | None = None, row_limit: int = WORKBENCH_ROW_LIMIT) -> CheckedSql:
    """Parse and check user SQL; raise EmptySql, SqlSyntaxError, RefusedStatement, AccessDenied or InvalidRequest."""
    text = text or ""
    if len(text) > MAX_SQL_CHARS:
        raise InvalidRequest(f"The query is {len(text):,} characters long; at most {MAX_SQL_CHARS:,} are allowed.")
    tree = parse_single_statement(text)
    refuse_non_read_only(tree)
    tree = _unwrap_parentheses(tree)
    refs = referenced_tables(tree)  # refuses table functions and unknown tables, naming them
    if grants is not None:
        govern(tree, grants)  # refuses forbidden tables and columns with the engine's own messages
    tables = tuple(dict.fromkeys(f"{db}.{table.name}" for _node, db, table in refs))
    warnings = tuple(dict.fromkeys(missing_partition_predicates(tree)))
    limited, fetch_limit = apply_row_limit(tree, row_limit)
    return CheckedSql(sql=limited.sql(dialect="athena", pretty=True), row_limit=row_limit, fetch_limit=fetch_limit,
                      tables=tables, partition_warnings=warnings)


def parse_single_statement(text: str) -> exp.Expr:
    """The one statement in `text` (comments and trailing `;` allowed), or a clear error."""
    try:
        parsed = sqlglot.parse(text, read="athena")
    except sqlglot.errors.ParseError as e:
        raise SqlSyntaxError(_syntax_error_message(e)) from None
    except sqlglot.errors.TokenError:
        raise SqlSyntaxError(_unclosed_quote_message(text)) from None
    # A comment after the last `;` parses as a Semicolon node: it is not a statement.
    statements = [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]
    if not statements:
        raise EmptySql("The editor is empty: write a SELECT query, load an example, or pick a table from the catalog.")
    if len(statements) > 1:
        raise RefusedStatement(
            f"Found {len(statements)} statements; the workbench runs exactly one. Remove the others "
            "(a `;` inside a string or a comment is fine)."
        )
    return statements[0]


def _syntax_error_message(error: sqlglot.errors.ParseError) -> str:
    first = error.errors[0] if error.errors else {}
    if not first:
        return f"{error}."
    # sqlglot names its node classes in some messages: "missing for <class '...EQ'>" -> "missing for EQ".
    description = re.sub(r"<class '(?:[\w.]+\.)?(\w+)'>", r"\1", str(first.get("description", "invalid SQL")))
    near = (first.get("highlight") or "").strip()
    near_text = f" near `{near[:40]}`" if near else ""
    return f"Line {first.get('line')}, column {first.get('col')}{near_text}: {description}."


def _unclosed_quote_message(text: str) -> str:
    """Where an unclosed string, quoted name or comment starts (the tokenizer does not say)."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                return f"{_position(text, i)}: a /* comment */ is not closed."
            i = end + 2
            continue
        if ch in ("'", '"'):
            j = i + 1
            while j < n:
                if text[j] == ch:
                    if j + 1 < n and text[j + 1] == ch:  # '' or "" is an escaped quote
                        j += 2
                        continue
                    break
                j += 1
            if j >= n:
                what = "string literal" if ch == "'" else "quoted name"
                return f"{_position(text, i)}: the {what} starting with {ch} is not closed."
            i = j + 1
            continue
        i += 1
    return "The SQL could not be read (check quotes and comments)."


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"Line {line}, column {col}"


def _keyword(node: exp.Expr) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return type(node).__name__.upper()


def refuse_non_read_only(tree: exp.Expr) -> None:
    """Raise RefusedStatement, saying why, unless `tree` is a SELECT / WITH / set operation that only reads."""
    if isinstance(tree, exp.Command) and _keyword(tree) == "UNLOAD":
        raise RefusedStatement(f"UNLOAD writes query results to S3. {READ_ONLY_HINT}")
    if isinstance(tree, exp.Create):
        kind = str(tree.args.get("kind") or "").upper()
        if isinstance(tree.expression, exp.Query):
            raise RefusedStatement(f"CREATE {kind} AS SELECT writes a new {kind.lower() or 'table'}. {READ_ONLY_HINT}")
        raise RefusedStatement(f"CREATE {kind} changes the catalog. {READ_ONLY_HINT}")
    if isinstance(tree, (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Copy)):
        raise RefusedStatement(f"{_keyword(tree)} changes data. {READ_ONLY_HINT}")
    if isinstance(tree, (exp.Drop, exp.Alter)):
        raise RefusedStatement(f"{_keyword(tree)} changes the catalog. {READ_ONLY_HINT}")
    if isinstance(tree, exp.Values):
        raise RefusedStatement(f"A bare VALUES list reads no table. {READ_ONLY_HINT}")
    if not isinstance(tree, ALLOWED_TOP_LEVEL):
        raise RefusedStatement(f"{_keyword(tree)} is not a query. {READ_ONLY_HINT}")
    for node in tree.walk():
        if isinstance(node, exp.Into):
            raise RefusedStatement(f"SELECT … INTO writes a new table. {READ_ONLY_HINT}")
        if isinstance(node, (exp.DDL, exp.DML, exp.Command, exp.Drop, exp.Alter, exp.Pragma, exp.Set)):
            raise RefusedStatement(f"{_keyword(node)} inside a query is not allowed. {READ_ONLY_HINT}")
        if isinstance(node, exp.Placeholder):
            raise RefusedStatement("Parameters (`:name` or `?`) cannot be bound in the workbench: write the value into the query.")
    if isinstance(tree, exp.Select) and not tree.expressions:
        raise SqlSyntaxError("The SELECT lists no columns: write e.g. `SELECT * FROM daivi_billing.accounts`.")


def _unwrap_parentheses(tree: exp.Expr) -> exp.Expr:
    """`(SELECT ...)` -> `SELECT ...`, so the row limit goes on the query itself."""
    while isinstance(tree, exp.Subquery) and isinstance(tree.this, exp.Query) and not any(
        tree.args.get(k) for k in ("limit", "alias", "order", "offset")
    ):
        tree = tree.this
    return tree


def _int_literal(node: exp.Expr | None) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return int(node.this)
        except ValueError:
            return None
    return None


def apply_row_limit(tree: exp.Expr, row_limit: int) -> tuple[exp.Expr, int | None]:
    """The query with at most `row_limit` + 1 rows, and the LIMIT set (None when the user's own LIMIT is smaller).

    The limit goes on the outermost query (never a wrapping subquery: Trino drops
    an ORDER BY inside a subquery, so wrapping would return arbitrary rows).
    One row beyond `row_limit` is fetched so the page knows the result was cut.
    """
    tree = tree.copy()
    limit = tree.args.get("limit")
    value = _int_literal(limit.expression) if isinstance(limit, exp.Limit) else None
    if isinstance(limit, exp.Fetch):
        value = _int_literal(limit.args.get("count"))
    if value is not None and value <= row_limit:
        return tree, None
    fetch = row_limit + 1
    tree.set("limit", exp.Limit(expression=exp.Literal.number(fetch)))
    return tree, fetch


def limit_result(df: pd.DataFrame, checked: CheckedSql) -> tuple[pd.DataFrame, bool]:
    """The rows to show and whether the result had more than the row limit."""
    if len(df) > checked.row_limit:
        return df.head(checked.row_limit), True
    return df, False


def date_only_columns(df: pd.DataFrame) -> list[str]:
    """Timestamp columns whose values are all midnight: DATE columns, which pandas holds as timestamps."""
    columns = []
    for name in df.columns:
        series = df[name]
        if pd.api.types.is_datetime64_any_dtype(series) and not series.dropna().empty:
            values = series.dropna()
            if (values == values.dt.normalize()).all():
                columns.append(name)
    return columns


def missing_partition_predicates(tree: exp.Expr) -> list[PartitionWarning]:
    """Partitioned tables the query reads without a pruning predicate on the partition key.

    Looks at the WHERE and JOIN ... ON of the SELECT that reads the table, for a
    comparison (=, <, >, IN, BETWEEN, ...) on the partition key column, unqualified
    or qualified with the table's alias. A filter applied only outside a CTE or
    subquery is not seen, so the warning errs on the side of warning.
    """
    warnings = []
    for node, db, table in referenced_tables(tree):
        if not table.partition_keys:
            continue
        select = node.find_ancestor(exp.Select)
        conditions = []
        if select is not None:
            conditions.append(select.args.get("where"))
            conditions += [join.args.get("on") for join in select.args.get("joins") or []]
        names = {node.alias_or_name.lower(), table.name.lower()}
        for key in table.partition_keys:
            if not any(_has_pruning_predicate(c, key, names) for c in conditions if c is not None):
                warnings.append(PartitionWarning(f"{db}.{table.name}", key))
    return warnings


def _has_pruning_predicate(condition: exp.Expr, key: str, table_names: set[str]) -> bool:
    for column in condition.find_all(exp.Column):
        if column.name.lower() != key or (column.table and column.table.lower() not in table_names):
            continue
        predicate = column.find_ancestor(*PRUNING_PREDICATES, exp.Where, exp.Join)
        if isinstance(predicate, PRUNING_PREDICATES):
            return True
    return False
