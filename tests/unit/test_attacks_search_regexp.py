"""Attacks on the Logs search's message terms: what a user types is matched literally, never as a regex.

A message term is sent as `regexp_like(message, :param)`. Athena runs it on Joni, a backtracking
engine: a pattern with several `.*` (one per `*` the user typed, up to the search's 2,000 characters)
is matched in time that grows with the message length to the power of the wildcards (`a*a*a*a*a*b`
over a long message is a ReDoS on the workgroup). So only a wildcard-free term may become a regex, and
that regex must be the literal text: a property test over hostile text checks both against a plain
substring reference, run by DuckDB as the embedded engine runs it.
"""

from __future__ import annotations

import re
import string

import duckdb
import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st

from daivi_data.errors import InvalidRequest
from daivi_data.search_language import Pattern, Term, compile_search, compile_tree, parse

# Regex and SQL metacharacters, quotes, backslashes, comment markers, NUL, newlines, non-ASCII whose
# lower case is one character (so `str.lower` is a fair reference for a case-insensitive match).
HOSTILE = string.printable + "\x00\u2028éÉüÜñÑ中€" + "*/\\'\"$^|?+(){}[]"
text = st.text(alphabet=HOSTILE, max_size=40)
segment = st.text(alphabet=HOSTILE, min_size=1, max_size=6)

_con = duckdb.connect()


def message_matches(node, message: str) -> bool:
    compiled = compile_tree(node)
    athena = f"SELECT {compiled.sql} FROM (SELECT CAST(:m AS VARCHAR) AS message)"  # noqa: S608 (compiled fragment)
    sql = sqlglot.transpile(athena, read="athena", write="duckdb")[0]
    return bool(_con.execute(sql, {**compiled.params, "m": message}).fetchone()[0])


def contains_in_order(message: str, segments: tuple[str, ...]) -> bool:
    """The reference: each segment found (any case) after the previous one, as `*` between them means."""
    haystack, at = message.lower(), 0
    for part in segments:
        found = haystack.find(part.lower(), at)
        if found < 0:
            return False
        at = found + len(part)
    return True


@settings(max_examples=300, deadline=None)
@given(needle=segment, before=text, after=text)
def test_a_term_matches_exactly_the_messages_that_contain_it(needle, before, after):
    node = Term(Pattern((needle,)), 1)
    assert message_matches(node, before + needle.upper() + after)
    assert message_matches(node, before + after) == contains_in_order(before + after, (needle,))


@settings(max_examples=200, deadline=None)
@given(segments=st.lists(segment, min_size=2, max_size=4).map(tuple), message=text)
def test_a_wildcard_term_matches_the_segments_in_order(segments, message):
    assert message_matches(Term(Pattern(segments), 1), message) == contains_in_order(message, segments)


@settings(max_examples=300, deadline=None)
@given(search=st.text(alphabet=HOSTILE.replace("\x00", ""), max_size=60))
def test_no_typed_text_becomes_a_backtracking_regex(search):
    """Whatever the user types, each regex sent to the engine is `(?is)` and escaped literal text: no
    quantifier, alternation or group of theirs, and no `.*` per wildcard."""
    try:
        compiled = compile_search(search)
    except InvalidRequest:
        return  # refused with a message: nothing reaches the engine
    regexps = [v for v in compiled.params.values() if isinstance(v, str) and v.startswith("(?is)")]
    assert compiled.sql.count("regexp_like") == len(regexps)
    for regexp in regexps:
        literal = re.sub(r"\\(.)", r"\1", regexp[len("(?is)"):], flags=re.DOTALL)
        assert regexp == "(?is)" + re.escape(literal)


def test_a_typed_nul_is_refused_not_a_wildcard():
    for search in ("\x00", 'a\x00b', '"a\x00b"', "host=a\x00b", "a\\\x00b"):
        with pytest.raises(InvalidRequest, match="NUL"):
            compile_search(search)


def test_many_wildcards_send_no_regex():
    compiled = compile_search("a*a*a*a*a*a*a*a*a*a*a*a*b")
    assert "regexp_like" not in compiled.sql
    assert message_matches(parse("a*a*a*a*a*a*a*a*a*a*a*a*b"), "a" * 30 + "b")
    assert not message_matches(parse("a*a*a*a*a*a*a*a*a*a*a*a*b"), "a" * 30)
