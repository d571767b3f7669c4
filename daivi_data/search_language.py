"""The Logs view's search language: tokenizer, recursive-descent parser, compiler to Athena SQL.

A small, Splunk-like language over `daivi_splunk.events`:

    error                      events whose message contains "error" (any case)
    "connection reset"         a phrase in the message
    time*out                   `*` is a wildcard, in words and in field values
    host=web-01                a field equals a value (text fields: any case)
    status!=200                a field is present and differs from a value
    status>=500 duration>1000  numeric comparisons (=, !=, <, <=, >, >=) on numeric fields
    path="/api/*/orders"       quoted values may hold spaces, '=' and parentheses
    NOT index=security         negation (also `-` is *not* special: use NOT)
    a OR b, (a OR b) c         OR; parentheses; juxtaposition (or AND) means AND
    \\" \\* \\\\               a backslash makes the next character literal

Boolean operators are upper case, as in Splunk: lower-case `and`, `or`, `not`
are ordinary words. `!=` matches only events that have the field (Splunk's
rule); `NOT f=v` also matches events without it.

The search is parsed into a tree, then compiled to a WHERE fragment with
`:name` placeholders and a dict of values. Field names are looked up in one
allow-list (`FIELDS`); values only ever travel as bound parameters, so a
value holding quotes, semicolons or unicode is matched literally. A syntax
error raises `InvalidRequest` naming the 1-based character position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from daivi_data.errors import InvalidRequest

MAX_SEARCH_CHARS = 2_000
MAX_CLAUSES = 100
MAX_DEPTH = 32
LIKE_ESCAPE = "\\"


# The language as its users read it (the search box's help).
SEARCH_HELP = """
**Search language** (Splunk-like; every value is matched literally, never pasted into SQL):

| you type | matches |
|---|---|
| `timeout` | the message contains *timeout* (any case) |
| `"connection reset"` | the phrase in the message |
| `time*out` | `*` is a wildcard, in words and in field values |
| `host=web-01` / `host!=web-01` | a field equals / differs (text fields in any case; `!=` needs the field present) |
| `status>=500`, `duration>1000` | numeric comparisons `= != < <= > >=` on status, bytes, duration |
| `status=5*`, `path="/api/*/orders"` | wildcards in values; quote values with spaces or `=` |
| `NOT index=security` | negation (also matches events without the field) |
| `a OR b`, `(a OR b) c`, `a AND b` | OR, parentheses; terms side by side mean AND |

Fields: index, sourcetype, source, host, account, severity, method, path, status, bytes, duration, user,
client_ip (or ip), message. Operators are upper case (`AND OR NOT`); a backslash makes the next character literal.
"""


class SearchSyntaxError(InvalidRequest):
    """A search that does not parse or names something unknown; `position` is 1-based (None: whole search)."""

    title = "Search error"

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class Field:
    """A searchable field: the name users type and the column it reads."""

    name: str
    column: str
    numeric: bool = False


# The allow-list: every name a user may type, and the only columns a search can reach.
_FIELD_LIST = (
    Field("index", "index_name"),
    Field("sourcetype", "sourcetype"),
    Field("source", "source"),
    Field("host", "host"),
    Field("account", "account_id"),
    Field("severity", "severity"),
    Field("method", "http_method"),
    Field("path", "http_path"),
    Field("status", "http_status", numeric=True),
    Field("bytes", "bytes", numeric=True),
    Field("duration", "duration_ms", numeric=True),
    Field("user", "user_name"),
    Field("client_ip", "client_ip"),
    Field("message", "message"),
)
FIELDS: dict[str, Field] = {f.name: f for f in _FIELD_LIST}
# Other spellings users reach for: Splunk habits and the column names themselves.
FIELD_ALIASES: dict[str, str] = {
    "ip": "client_ip",
    "_raw": "message",
    "index_name": "index",
    "account_id": "account",
    "http_method": "method",
    "http_path": "path",
    "http_status": "status",
    "duration_ms": "duration",
    "user_name": "user",
}
NUMERIC_FIELDS = tuple(f.name for f in _FIELD_LIST if f.numeric)
# Fields with a small set of values worth a "top values" list (message excluded).
FACET_FIELDS = tuple(f.name for f in _FIELD_LIST if f.name != "message")


def lookup_field(name: str, position: int | None = None) -> Field:
    """The allow-listed field a user typed (case-insensitive), or InvalidRequest naming the choices."""
    key = name.lower()
    key = FIELD_ALIASES.get(key, key)
    if key in FIELDS:
        return FIELDS[key]
    where = f" at position {position}" if position is not None else ""
    message = f"Unknown field {name!r}{where}. Fields you can search: {', '.join(FIELDS)} (also ip)."
    raise SearchSyntaxError(message, position) if position is not None else InvalidRequest(message)


# --- the tree ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    """A value with optional `*` wildcards: the literal segments between wildcards."""

    segments: tuple[str, ...]

    @property
    def has_wildcard(self) -> bool:
        return len(self.segments) > 1

    @property
    def literal(self) -> str:
        """The value without wildcards (only meaningful when `has_wildcard` is false)."""
        return "*".join(self.segments)

    def display(self) -> str:
        """The value as a user would type it back (escapes literal stars and backslashes)."""
        return "*".join(s.replace("\\", "\\\\").replace("*", "\\*") for s in self.segments)

    def like(self, *, lower: bool) -> str:
        """A LIKE pattern: literal %, _ and the escape character escaped, wildcards as %."""
        parts = [escape_like(s.lower() if lower else s) for s in self.segments]
        return "%".join(parts)

    def contained_regexp(self) -> str:
        """A regular expression found anywhere in a text, in any case: the segments literal, wildcards as `.*`
        (the compiler sends only wildcard-free ones: `.*` backtracks on Athena).

        `(?is)` (any case; `.` also matches a newline, as LIKE's `%` does) and backslash-escaped
        punctuation mean the same in RE2 (DuckDB) and in Java syntax (Athena's Joni).
        """
        return "(?is)" + ".*".join(re.escape(s) for s in self.segments)


@dataclass(frozen=True)
class Term:
    """A bare word or "quoted phrase": matches the message, case-insensitively."""

    pattern: Pattern
    position: int
    phrase: bool = False

    def describe(self) -> str:
        return f'(TERM "{self.pattern.display()}")'


@dataclass(frozen=True)
class Compare:
    field: Field
    op: str
    pattern: Pattern
    position: int

    def describe(self) -> str:
        return f'(CMP {self.field.name} {self.op} "{self.pattern.display()}")'


@dataclass(frozen=True)
class Not:
    child: Node

    def describe(self) -> str:
        return f"(NOT {self.child.describe()})"


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]

    def describe(self) -> str:
        return "(AND " + " ".join(c.describe() for c in self.children) + ")"


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]

    def describe(self) -> str:
        return "(OR " + " ".join(c.describe() for c in self.children) + ")"


Node = Term | Compare | Not | And | Or


# --- tokenizer ---------------------------------------------------------------------------------

LPAREN, RPAREN, OP, WORD, PHRASE, KEYWORD, END = "(", ")", "op", "word", "phrase", "keyword", "end"
KEYWORDS = ("AND", "OR", "NOT")
OPERATORS = ("!=", "<=", ">=", "=", "<", ">")
_OPERATOR_CHARS = "=!<>"
_BREAK_CHARS = '()"' + _OPERATOR_CHARS
_WILDCARD = "\x00"  # stands for an unescaped `*` inside a token until it becomes a Pattern


@dataclass(frozen=True)
class Token:
    kind: str
    text: str  # for WORD/PHRASE: the unescaped value, wildcards as _WILDCARD
    position: int  # 1-based character position in the search


def _pattern(text: str) -> Pattern:
    return Pattern(tuple(text.split(_WILDCARD)))


def tokenize(search: str) -> list[Token]:
    """Split a search into tokens. A value right after an operator may contain operator characters."""
    tokens: list[Token] = []
    i, n = 0, len(search)
    while i < n:
        ch = search[i]
        if ch.isspace():
            i += 1
            continue
        after_operator = bool(tokens) and tokens[-1].kind == OP
        if ch in "()":
            tokens.append(Token(ch, ch, i + 1))
            i += 1
        elif ch == '"':
            start = i
            text, i = _read_phrase(search, i)
            tokens.append(Token(PHRASE, text, start + 1))
        elif ch in _OPERATOR_CHARS and not after_operator:
            op = search[i : i + 2] if search[i : i + 2] in OPERATORS else search[i]
            if op not in OPERATORS:
                raise SearchSyntaxError(f"Unexpected {op!r} at position {i + 1}: did you mean '!='? Quote it to search for it.", i + 1)
            tokens.append(Token(OP, op, i + 1))
            i += len(op)
        else:
            # A value after an operator runs to the next space or parenthesis; a
            # word also stops at an operator (`status>=500` is three tokens).
            stops = "()\"" if after_operator else _BREAK_CHARS
            start, chars = i, []
            while i < n and not search[i].isspace() and search[i] not in stops:
                if search[i] == "\\":
                    if i + 1 == n:
                        raise SearchSyntaxError(f"A backslash at position {i + 1} ends the search: escape what? Use \\\\ for a backslash.", i + 1)
                    chars.append(search[i + 1])
                    i += 2
                    continue
                chars.append(_WILDCARD if search[i] == "*" else search[i])
                i += 1
            raw = search[start:i]
            kind = KEYWORD if raw in KEYWORDS and not after_operator else WORD
            tokens.append(Token(kind, raw if kind == KEYWORD else "".join(chars), start + 1))
    tokens.append(Token(END, "", n + 1))
    return tokens


def _read_phrase(search: str, start: int) -> tuple[str, int]:
    """The unescaped text of the quoted phrase opening at `start`, and the index after it."""
    i, chars = start + 1, []
    while i < len(search):
        ch = search[i]
        if ch == "\\" and i + 1 < len(search):
            chars.append(search[i + 1])
            i += 2
        elif ch == '"':
            return "".join(chars), i + 1
        else:
            chars.append(_WILDCARD if ch == "*" else ch)
            i += 1
    raise SearchSyntaxError(f'Unbalanced quote: the " at position {start + 1} is never closed.', start + 1)


# --- parser ----------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over: or := and (OR and)* ; and := unary ([AND] unary)* ;
    unary := NOT unary | primary ; primary := '(' or ')' | WORD op value | WORD | PHRASE."""

    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.i = 0
        self.clauses = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Node | None:
        if self.current.kind == END:
            return None
        node = self.parse_or(0)
        if self.current.kind == RPAREN:
            raise SearchSyntaxError(f"Unbalanced parentheses: the ')' at position {self.current.position} has no matching '('.", self.current.position)
        if self.current.kind != END:  # unreachable with this grammar, kept as a guard
            raise SearchSyntaxError(f"Unexpected {self.current.text!r} at position {self.current.position}.", self.current.position)
        return node

    def parse_or(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise SearchSyntaxError(f"The search nests parentheses or NOTs too deeply (at most {MAX_DEPTH}).")
        children = [self.parse_and(depth)]
        while self.current.kind == KEYWORD and self.current.text == "OR":
            self.advance()
            children.append(self.parse_and(depth))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self, depth: int) -> Node:
        children = [self.parse_unary(depth)]
        while True:
            token = self.current
            if token.kind == KEYWORD and token.text == "AND":
                self.advance()
                children.append(self.parse_unary(depth))
            elif token.kind in (WORD, PHRASE, LPAREN) or (token.kind == KEYWORD and token.text == "NOT"):
                children.append(self.parse_unary(depth))
            else:
                break
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_unary(self, depth: int) -> Node:
        token = self.current
        if token.kind == KEYWORD and token.text == "NOT":
            self.advance()
            return Not(self.parse_unary(depth + 1))
        return self.parse_primary(depth)

    def parse_primary(self, depth: int) -> Node:
        token = self.advance()
        if token.kind == LPAREN:
            if self.current.kind == RPAREN:
                raise SearchSyntaxError(f"Empty parentheses at position {token.position}.", token.position)
            node = self.parse_or(depth + 1)
            if self.current.kind != RPAREN:
                raise SearchSyntaxError(f"Unbalanced parentheses: the '(' at position {token.position} is never closed.", token.position)
            self.advance()
            return node
        self._count_clause()
        if token.kind == PHRASE:
            if self.current.kind == OP:
                raise SearchSyntaxError(f"A field name cannot be quoted (position {token.position}).", token.position)
            return Term(_pattern(token.text), token.position, phrase=True)
        if token.kind == WORD:
            if self.current.kind == OP:
                return self._comparison(token)
            return Term(_pattern(token.text), token.position)
        if token.kind == RPAREN:
            raise SearchSyntaxError(f"Unbalanced parentheses: the ')' at position {token.position} has no matching '('.", token.position)
        if token.kind == OP:
            raise SearchSyntaxError(f"{token.text!r} at position {token.position} needs a field name before it (e.g. status{token.text}500).", token.position)
        if token.kind == KEYWORD:
            raise SearchSyntaxError(f"{token.text} at position {token.position} needs a search term before it.", token.position)
        previous = self.tokens[self.i - 2] if self.i >= 2 else None
        if previous is not None and previous.kind == KEYWORD:
            raise SearchSyntaxError(f"{previous.text} at position {previous.position} needs a search term after it.", previous.position)
        raise SearchSyntaxError(f"The search ends early at position {token.position}: a term is missing.", token.position)

    def _comparison(self, name: Token) -> Compare:
        op = self.advance()
        value = self.advance()
        if value.kind not in (WORD, PHRASE):
            raise SearchSyntaxError(f"{name.text}{op.text} at position {name.position} needs a value after '{op.text}'.", name.position)
        field = lookup_field(name.text, name.position)
        pattern = _pattern(value.text)
        if op.text not in ("=", "!=") and not field.numeric:
            raise SearchSyntaxError(
                f"{field.name}{op.text}… at position {name.position}: {op.text} compares numbers, and {field.name} is text. "
                f"Numeric fields: {', '.join(NUMERIC_FIELDS)}.",
                name.position,
            )
        if field.numeric:
            if pattern.has_wildcard and op.text not in ("=", "!="):
                raise SearchSyntaxError(f"{field.name}{op.text} at position {name.position}: wildcards work only with = and !=.", name.position)
            if not pattern.has_wildcard and _number(pattern.literal) is None:
                raise SearchSyntaxError(
                    f"{field.name} at position {name.position} is numeric, and {pattern.literal!r} is not a number.", name.position
                )
        return Compare(field, op.text, pattern, name.position)

    def _count_clause(self) -> None:
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise SearchSyntaxError(f"The search has more than {MAX_CLAUSES} terms; narrow it down.")


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _number(text: str) -> int | float | None:
    if not _NUMBER.fullmatch(text):
        return None
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)


def parse(search: str) -> Node | None:
    """The tree of a search (None for an empty search), or InvalidRequest naming the position."""
    if len(search) > MAX_SEARCH_CHARS:
        raise SearchSyntaxError(f"The search is {len(search):,} characters long; at most {MAX_SEARCH_CHARS:,}.")
    if _WILDCARD in search:  # the tokenizer's stand-in for `*`: a typed one (?q=%00) would match anything
        position = search.index(_WILDCARD) + 1
        raise SearchSyntaxError(f"The search holds a NUL character at position {position}; remove it.", position)
    return _Parser(tokenize(search)).parse()


# --- compiler --------------------------------------------------------------------------------


def escape_like(text: str) -> str:
    """Text matched literally inside a LIKE pattern with `ESCAPE '\\'`."""
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


@dataclass(frozen=True)
class CompiledSearch:
    """A WHERE fragment in Athena SQL with `:name` placeholders, and its values."""

    sql: str
    params: dict[str, str | int | float]

    def __hash__(self) -> int:  # hashable like its equality (the dict's items in any order): query builders memoize on it
        return hash((self.sql, frozenset(self.params.items())))


class _Compiler:
    def __init__(self, prefix: str):
        self.prefix = prefix
        self.params: dict[str, str | int | float] = {}

    def bind(self, value: str | int | float) -> str:
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def like(self, expr: str, pattern: str) -> str:
        return f"{expr} LIKE {self.bind(pattern)} ESCAPE '{LIKE_ESCAPE}'"

    def compile(self, node: Node) -> str:
        if isinstance(node, Term):
            if node.pattern.has_wildcard:
                # Never `.*` per typed `*`: Athena's regex engine (Joni) backtracks, and `a*a*a*a*b` over a
                # long message would run for the query's whole timeout. LIKE's matcher does not backtrack.
                return self.like("lower(message)", "%" + node.pattern.like(lower=True) + "%")
            # A case-insensitive regular expression over the message as stored: DuckDB (RE2) reads each
            # message once, about twice as fast as lowering it for LIKE; Athena runs it as well.
            return f"regexp_like(message, {self.bind(node.pattern.contained_regexp())})"
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Not):
            # Leaves can be NULL (a missing field); NOT must be the complement.
            return f"NOT COALESCE({self.compile(node.child)}, FALSE)"
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(self.compile(c) for c in node.children) + ")"

    def compare(self, node: Compare) -> str:
        column, op, pattern = node.field.column, node.op, node.pattern
        sql_op = "<>" if op == "!=" else op
        if node.field.numeric:
            if pattern.has_wildcard:  # status=5* : match the digits
                matched = self.like(f"CAST({column} AS VARCHAR)", pattern.like(lower=False))
                return f"NOT COALESCE({matched}, TRUE)" if op == "!=" else matched
            number = _number(pattern.literal)
            if number is None:  # the parser gives numeric fields numbers only; never bind NULL by accident
                raise InvalidRequest(f"{node.field.name} compares numbers, not {pattern.literal!r}.")
            return f"{column} {sql_op} {self.bind(number)}"
        # Text fields match in any case, as Splunk field values do.
        if pattern.has_wildcard:
            matched = self.like(f"lower({column})", pattern.like(lower=True))
            # `!=` needs the field present: COALESCE(..., TRUE) turns a missing value into "no match".
            return f"NOT COALESCE({matched}, TRUE)" if op == "!=" else matched
        return f"lower({column}) {sql_op} {self.bind(pattern.literal.lower())}"


def compile_tree(tree: Node | None, prefix: str = "s") -> CompiledSearch:
    """Compile a parsed search; an empty search is `TRUE`."""
    if tree is None:
        return CompiledSearch("TRUE", {})
    compiler = _Compiler(prefix)
    sql = compiler.compile(tree)
    return CompiledSearch(sql, compiler.params)


def compile_search(search: str, prefix: str = "s") -> CompiledSearch:
    """Parse and compile a search into a WHERE fragment and bound values."""
    return compile_tree(parse(search), prefix)


# --- editing a search (the Fields panel's include / exclude clicks) -----------------------------

_BARE_VALUE = re.compile(r"[^\s()\"\\*]+")


def quote_value(value: str) -> str:
    """A value as search text that matches it literally (quoted when it holds spaces or specials)."""
    if value and _BARE_VALUE.fullmatch(value) and value not in KEYWORDS:
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("*", "\\*")
    return f'"{escaped}"'


def with_clause(search: str, field: str, value: str, exclude: bool = False) -> str:
    """The search with `field=value` (or `field!=value`) appended as another AND term."""
    lookup_field(field)
    clause = f"{field}{'!=' if exclude else '='}{quote_value(str(value))}"
    search = search.strip()
    if not search:
        return clause
    # An OR at the top level must keep binding its own terms only.
    try:
        tree = parse(search)
    except InvalidRequest:
        return f"{search} {clause}"
    return f"({search}) {clause}" if isinstance(tree, Or) else f"{search} {clause}"
