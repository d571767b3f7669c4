"""The Logs search language: a table of searches -> tree, SQL, bound values, and matching rows.

The "matching rows" column runs the compiled SQL (transpiled from Athena to
DuckDB, as the embedded engine does) over eight hand-made events, so the
semantics (case, NULLs under NOT and !=, wildcards, escapes) are checked, not
only the text.
"""

from __future__ import annotations

import duckdb
import pytest
import sqlglot

from daivi_data.errors import InvalidRequest
from daivi_data.search_language import (
    FIELDS,
    SearchSyntaxError,
    compile_search,
    escape_like,
    lookup_field,
    parse,
    quote_value,
    tokenize,
    with_clause,
)

# id, message, host, index_name, severity, http_status, duration_ms, user_name, client_ip
EVENTS = [
    (1, "GET /api/orders 200 in 12 ms", "web-01", "web", "INFO", 200, 12.0, "alice", "10.0.0.1"),
    (2, "GET /api/orders 503 upstream timed out", "web-02", "web", "ERROR", 503, 3000.0, "bob", "10.0.0.2"),
    (3, "Connection reset by peer", "app-01", "app", "WARN", None, None, None, None),
    (4, "Failed password for o'brien; DROP TABLE events; --", "bastion-01", "security", "CRITICAL", None, None, "o'brien", "203.0.113.9"),
    (5, "payment 100% done_ok for Zürich", "app-02", "app", "INFO", 201, 40.5, "ünïcode", "10.0.0.3"),
    (6, "POST /api/pay 500 TIMEOUT waiting", "web-01", "web", "ERROR", 500, 5000.0, "alice", "10.0.0.1"),
    (7, "cache warm", None, "app", "DEBUG", None, 1.0, None, None),
    (8, 'quote "inside" and back\\slash', "web-03", "web", "INFO", 404, 7.0, "carol", "10.0.0.4"),
]


@pytest.fixture(scope="module")
def events_db():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE events (id INTEGER, message VARCHAR, host VARCHAR, index_name VARCHAR, severity VARCHAR, "
        "http_status INTEGER, duration_ms DOUBLE, user_name VARCHAR, client_ip VARCHAR, sourcetype VARCHAR, source VARCHAR, "
        "account_id VARCHAR, http_method VARCHAR, http_path VARCHAR, bytes BIGINT)"
    )
    con.executemany(
        "INSERT INTO events (id, message, host, index_name, severity, http_status, duration_ms, user_name, client_ip) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        EVENTS,
    )
    return con


def matching_ids(con, search: str) -> list[int]:
    compiled = compile_search(search)
    athena = f"SELECT id FROM events WHERE {compiled.sql} ORDER BY id"  # noqa: S608 (compiled fragment: allow-listed)
    sql = sqlglot.transpile(athena, read="athena", write="duckdb")[0]
    return [row[0] for row in con.execute(sql, compiled.params).fetchall()]


# search -> (tree, SQL, params, matching event ids)
TABLE = [
    ("timeout",
     '(TERM "timeout")',
     "regexp_like(message, :s0)", {"s0": "(?is)timeout"}, [6]),
    ('"timed out"',
     '(TERM "timed out")',
     "regexp_like(message, :s0)", {"s0": "(?is)timed\\ out"}, [2]),
    ("time*out",
     '(TERM "time*out")',
     "lower(message) LIKE :s0 ESCAPE '\\'", {"s0": "%time%out%"}, [2, 6]),  # "timed out" too
    ("host=WEB-01",
     '(CMP host = "WEB-01")',
     "lower(host) = :s0", {"s0": "web-01"}, [1, 6]),
    ("host!=web-01",
     '(CMP host != "web-01")',
     "lower(host) <> :s0", {"s0": "web-01"}, [2, 3, 4, 5, 8]),  # 7 has no host: != needs the field
    ("NOT host=web-01",
     '(NOT (CMP host = "web-01"))',
     "NOT COALESCE(lower(host) = :s0, FALSE)", {"s0": "web-01"}, [2, 3, 4, 5, 7, 8]),
    ("host=web*",
     '(CMP host = "web*")',
     "lower(host) LIKE :s0 ESCAPE '\\'", {"s0": "web%"}, [1, 2, 6, 8]),
    ("host!=web*",
     '(CMP host != "web*")',
     "NOT COALESCE(lower(host) LIKE :s0 ESCAPE '\\', TRUE)", {"s0": "web%"}, [3, 4, 5]),
    ("host=*",
     '(CMP host = "*")',
     "lower(host) LIKE :s0 ESCAPE '\\'", {"s0": "%"}, [1, 2, 3, 4, 5, 6, 8]),
    ("status>=500",
     '(CMP status >= "500")',
     "http_status >= :s0", {"s0": 500}, [2, 6]),
    ("status=5*",
     '(CMP status = "5*")',
     "CAST(http_status AS VARCHAR) LIKE :s0 ESCAPE '\\'", {"s0": "5%"}, [2, 6]),
    ("duration>40.5",
     '(CMP duration > "40.5")',
     "duration_ms > :s0", {"s0": 40.5}, [2, 6]),
    ("severity=error status>=500",
     '(AND (CMP severity = "error") (CMP status >= "500"))',
     "(lower(severity) = :s0 AND http_status >= :s1)", {"s0": "error", "s1": 500}, [2, 6]),
    ("index=security OR severity=ERROR",
     '(OR (CMP index = "security") (CMP severity = "ERROR"))',
     "(lower(index_name) = :s0 OR lower(severity) = :s1)", {"s0": "security", "s1": "error"}, [2, 4, 6]),
    ("(host=web-01 OR host=web-02) AND NOT timeout",
     '(AND (OR (CMP host = "web-01") (CMP host = "web-02")) (NOT (TERM "timeout")))',
     "((lower(host) = :s0 OR lower(host) = :s1) AND NOT COALESCE(regexp_like(message, :s2), FALSE))",
     {"s0": "web-01", "s1": "web-02", "s2": "(?is)timeout"}, [1, 2]),
    ("NOT NOT cache",
     '(NOT (NOT (TERM "cache")))',
     "NOT COALESCE(NOT COALESCE(regexp_like(message, :s0), FALSE), FALSE)", {"s0": "(?is)cache"}, [7]),
    # lower-case operators are words, as in Splunk
    ("orders or timed",
     '(AND (TERM "orders") (TERM "or") (TERM "timed"))',
     "(regexp_like(message, :s0) AND regexp_like(message, :s1) AND regexp_like(message, :s2))",
     {"s0": "(?is)orders", "s1": "(?is)or", "s2": "(?is)timed"}, [2]),
    # SQL metacharacters are values, matched literally
    ("user=\"o'brien\" \"; DROP TABLE events; --\"",
     '(AND (CMP user = "o\'brien") (TERM "; DROP TABLE events; --"))',
     "(lower(user_name) = :s0 AND regexp_like(message, :s1))", {"s0": "o'brien", "s1": "(?is);\\ DROP\\ TABLE\\ events;\\ \\-\\-"}, [4]),
    # LIKE and regular-expression metacharacters are literal; only * is a wildcard
    ('"100% done_ok"',
     '(TERM "100% done_ok")',
     "regexp_like(message, :s0)", {"s0": "(?is)100%\\ done_ok"}, [5]),
    # unescaped, `_` would match the space in "100% done" and `%` anything
    ("100%_done",
     '(TERM "100%_done")',
     "regexp_like(message, :s0)", {"s0": "(?is)100%_done"}, []),
    # regular-expression metacharacters are literal too: `.` is no "any character", `(` `[` `+` `$` `^` `|` no syntax
    ('"GET./api" orders?|x',
     '(AND (TERM "GET./api") (TERM "orders?|x"))',
     "(regexp_like(message, :s0) AND regexp_like(message, :s1))", {"s0": "(?is)GET\\./api", "s1": "(?is)orders\\?\\|x"}, []),
    ('"(o\'brien)" OR "[x]+$" OR "^cache"',
     '(OR (TERM "(o\'brien)") (TERM "[x]+$") (TERM "^cache"))',
     "(regexp_like(message, :s0) OR regexp_like(message, :s1) OR regexp_like(message, :s2))",
     {"s0": "(?is)\\(o'brien\\)", "s1": "(?is)\\[x\\]\\+\\$", "s2": "(?is)\\^cache"}, []),
    # any case
    ("WARM", '(TERM "WARM")', "regexp_like(message, :s0)", {"s0": "(?is)WARM"}, [7]),
    # unicode in words and values
    ("zürich user=ÜNÏCODE",
     '(AND (TERM "zürich") (CMP user = "ÜNÏCODE"))',
     "(regexp_like(message, :s0) AND lower(user_name) = :s1)", {"s0": "(?is)zürich", "s1": "ünïcode"}, [5]),
    # escapes: a literal quote, a literal backslash, a literal star
    ('"\\"inside\\"" back\\\\slash',
     '(AND (TERM ""inside"") (TERM "back\\\\slash"))',
     "(regexp_like(message, :s0) AND regexp_like(message, :s1))",
     {"s0": '(?is)"inside"', "s1": "(?is)back\\\\slash"}, [8]),
    ("path=\"/api/*/orders\" ip=10.0.0.*",
     '(AND (CMP path = "/api/*/orders") (CMP client_ip = "10.0.0.*"))',
     "(lower(http_path) LIKE :s0 ESCAPE '\\' AND lower(client_ip) LIKE :s1 ESCAPE '\\')",
     {"s0": "/api/%/orders", "s1": "10.0.0.%"}, []),
    ("status = 404",
     '(CMP status = "404")',
     "http_status = :s0", {"s0": 404}, [8]),
    ("", None, "TRUE", {}, [1, 2, 3, 4, 5, 6, 7, 8]),
]


@pytest.mark.parametrize(("search", "tree", "sql", "params", "ids"), TABLE, ids=[row[0] or "<empty>" for row in TABLE])
def test_search_table(events_db, search, tree, sql, params, ids):
    parsed = parse(search)
    assert (parsed.describe() if parsed else None) == tree
    compiled = compile_search(search)
    assert compiled.sql == sql
    assert compiled.params == params
    assert matching_ids(events_db, search) == ids


def test_a_wildcard_term_crosses_lines_as_like_does():
    con = duckdb.connect()
    con.execute("CREATE TABLE events (id INTEGER, message VARCHAR)")
    con.execute("INSERT INTO events VALUES (1, 'first line' || chr(10) || 'SECOND line'), (2, 'first only'), (3, NULL)")
    assert matching_ids(con, "first*second") == [1]
    assert matching_ids(con, "NOT first*second") == [2, 3]


def test_compiled_sql_parses_as_athena_and_holds_no_value_text():
    compiled = compile_search("user=\"o'brien\" \"; DROP TABLE x; --\" zürich status>=500")
    sqlglot.parse_one(f"SELECT 1 FROM t WHERE {compiled.sql}", read="athena")  # noqa: S608
    for forbidden in ("brien", "DROP", "zürich", "500"):
        assert forbidden not in compiled.sql


def test_params_are_typed_numbers_for_numeric_fields():
    assert compile_search("bytes>1024").params == {"s0": 1024}
    assert compile_search("duration<=2.5e3").params == {"s0": 2500.0}


def test_tokenizer_positions_are_one_based():
    tokens = tokenize('a  status>=5 "x y"')
    assert [(t.kind, t.position) for t in tokens] == [("word", 1), ("word", 4), ("op", 10), ("word", 12), ("phrase", 14), ("end", 19)]


# Bad input: clear message with the position, never a traceback of the parser.
BAD = [
    ('error "unbalanced', 7, 'Unbalanced quote: the " at position 7 is never closed'),
    ("(a OR b", 1, "the '(' at position 1 is never closed"),
    ("a OR b)", 7, "the ')' at position 7 has no matching '('"),
    ("foo=bar", 1, "Unknown field 'foo' at position 1"),
    ("error colour=red", 7, "Unknown field 'colour' at position 7"),
    ("host>5", 1, "> compares numbers, and host is text"),
    ("status=abc", 1, "status at position 1 is numeric, and 'abc' is not a number"),
    ("status>5*", 1, "wildcards work only with = and !="),
    ("status=", 1, "needs a value after '='"),
    ("=500", 1, "needs a field name before it"),
    ("a OR", 3, "OR at position 3 needs a search term after it"),
    ("OR a", 1, "OR at position 1 needs a search term before it"),
    ("a NOT", 3, "NOT at position 3 needs a search term after it"),
    ("()", 1, "Empty parentheses at position 1"),
    ("a ! b", 3, "Unexpected '!' at position 3"),
    ('"host"=x', 1, "A field name cannot be quoted"),
    ("trailing\\", 9, "A backslash at position 9 ends the search"),
]


@pytest.mark.parametrize(("search", "position", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_search_names_the_position(search, position, message):
    with pytest.raises(SearchSyntaxError) as info:
        compile_search(search)
    assert message in str(info.value)
    assert info.value.position == position
    assert isinstance(info.value, InvalidRequest)  # pages show it with show_error


def test_search_size_is_bounded():
    with pytest.raises(SearchSyntaxError, match="at most 2,000"):
        parse("x" * 2_001)
    with pytest.raises(SearchSyntaxError, match="more than 100 terms"):
        parse(" ".join(["x"] * 101))
    with pytest.raises(SearchSyntaxError, match="too deeply"):
        parse("(" * 40 + "x" + ")" * 40)


def test_every_field_maps_to_an_events_column():
    from daivi_data.catalog import SPLUNK

    columns = SPLUNK.table("events").column_names
    assert all(f.column in columns for f in FIELDS.values())
    assert lookup_field("IP").column == "client_ip"
    assert lookup_field("index").column == "index_name"
    with pytest.raises(InvalidRequest, match="Unknown field 'event_date'"):
        lookup_field("event_date")  # the partition column is not a search field


def test_escape_like():
    assert escape_like("a%b_c\\d") == "a\\%b\\_c\\\\d"


@pytest.mark.parametrize(
    ("value", "quoted"),
    [("web-01", "web-01"), ("a b", '"a b"'), ('say "hi"', '"say \\"hi\\""'), ("5*", '"5\\*"'), ("OR", '"OR"'), ("", '""'),
     ("x(1)", '"x(1)"'), ("a\\b", '"a\\\\b"')],
)
def test_quote_value_round_trips_literally(value, quoted):
    assert quote_value(value) == quoted
    tree = parse(f"host={quoted}")
    assert tree.pattern.literal == value and not tree.pattern.has_wildcard


def test_with_clause_appends_and_keeps_or_groups_intact():
    assert with_clause("", "host", "web-01") == "host=web-01"
    assert with_clause("error", "severity", "ERROR", exclude=True) == "error severity!=ERROR"
    assert with_clause("a OR b", "host", "web 1") == '(a OR b) host="web 1"'
    assert with_clause('bad "quote', "status", "500") == 'bad "quote status=500'
    with pytest.raises(InvalidRequest):
        with_clause("", "nope", "x")
