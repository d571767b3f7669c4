"""Attacks on the sqlglot-built queries: text from a URL, a widget, an MCP call or the data never shapes SQL.

For each builder that takes text a user controls (tag keys, filter values, search text and tag searches,
resource ids and hosts, drill-path values, event columns and fields, Logs searches), hypothesis draws hostile
text (quotes, backslashes, comment markers, NUL, unicode, 2,000 characters). The builder either refuses it
(InvalidRequest) or returns SQL whose tree, with every string literal blanked, is the tree it builds for a
plain word: the text can only be a bound value or the content of one literal, never SQL.
"""

from __future__ import annotations

import datetime as dt
import re

import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from daivi_data import inventory_analysis as ia
from daivi_data.errors import InvalidRequest
from daivi_data.queries import billing as bq
from daivi_data.queries import cur as cq
from daivi_data.queries import inventory as iq
from daivi_data.queries import splunk as sq
from daivi_data.search_language import FIELDS

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
RANGE = sq.TimeRange(dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 2))
REFERENCES = ("plain", "411111111101", "host", "USD")  # a value each builder accepts

hostile = st.one_of(
    st.text(alphabet="'\"\\;-*/()%_:?$`\x00\n é中ＡZz0=+@.", min_size=1, max_size=30),
    st.sampled_from(["' OR '1'='1", "x'); DROP TABLE t; --", "*/ SELECT 1 /*", "\\'", "a\x00b", "é" * 2_000,
                     "resource_id", "configuration", ":text", "?", "$1", "''", "' || (SELECT owner_email FROM accounts) || '"]),
)

BUILDERS = {
    "billing tag values": lambda h: bq.tag_values(D1, D2, h),
    "billing tag dimension": lambda h: bq.daily_by_group(bq.CostScope(D1, D2), bq.Dimension.parse("tag:" + h)),
    "billing filter value": lambda h: bq.daily_totals(bq.CostScope(D1, D2, filters=(bq.CostFilter(bq.Dimension("service"), (h,)),))),
    "billing tag filter": lambda h: bq.daily_totals(bq.CostScope(D1, D2, filters=(bq.CostFilter(bq.Dimension("tag", h), (h,)),))),
    "billing currency": lambda h: bq.daily_totals(bq.CostScope(D1, D2, currency=h)),
    "cur tag": lambda h: cq.cost_by_tag("2026-11", h),
    "cur drill": lambda h: cq.drill_level(cq.DrillPath("2026-11", "411111111101", h, h, h, h)),
    "cur line items": lambda h: cq.line_items(cq.DrillPath("2026-11", "411111111101", h, h, h, h)),
    "cur account": lambda h: cq.drill_level(cq.DrillPath("2026-11", h)),
    "cur currency": lambda h: cq.period_summary("2026-11", h),
    "inventory text": lambda h: iq.search_page(D1, iq.ResourceFilter(text=h), iq.DEFAULT_SEARCH_COLUMNS, 1, 50),
    "inventory tags": lambda h: iq.search_page(D1, iq.ResourceFilter(tags=(ia.TagCondition(h, ia.TAG_EQUALS, h), ia.TagCondition(h, ia.TAG_NOT_EQUALS, h))),
                                               iq.DEFAULT_SEARCH_COLUMNS, 1, 50),
    "inventory lists": lambda h: iq.search_count(D1, iq.ResourceFilter(resource_types=(h,), accounts=(h,), regions=(h,), states=(h,))),
    "inventory resource": lambda h: iq.resource_detail(D1, h, True),
    "inventory resource cost": lambda h: iq.resource_daily_cost(h, D1),
    "inventory resource seen": lambda h: iq.resource_seen(h, D1, D2),
    "inventory host": lambda h: iq.resources_by_host(D1, h),
    "inventory host events": lambda h: iq.host_events(h, D1, D2),
    "splunk hosts": lambda h: sq.inventory_hosts(D1, [h]),
}
# Builders that take a column or field name: it must be one of theirs (a plain name), or be refused.
IDENTIFIER_BUILDERS = {
    "inventory column": lambda h: iq.search_page(D1, iq.ResourceFilter(), ("resource_id", h), 1, 50),
    "splunk event column": lambda h: sq.events_page(sq.EventFilter.of(RANGE, ""), ["host", h]),
    "splunk top values": lambda h: sq.top_values(sq.EventFilter.of(RANGE, ""), h),
    "splunk stats": lambda h: sq.stats_table(sq.EventFilter.of(RANGE, ""), "count", h, h),
}


def shape(query) -> str:
    """The query's tree with every string literal blanked, and its placeholder names."""
    tree = sqlglot.parse_one(query.sql, dialect="athena")
    blanked = tree.transform(lambda node: exp.Literal.string("") if isinstance(node, exp.Literal) and node.is_string else node)
    return blanked.sql(dialect="athena") + " | " + ",".join(sorted(name for name, _ in query.params))


def built(builder, text):
    try:
        return builder(text)
    except InvalidRequest:
        return None


@settings(max_examples=40, deadline=None)
@given(text=hostile)
def test_no_text_shapes_the_sql_of_any_builder(text):
    for name, builder in BUILDERS.items():
        query = built(builder, text)
        if query is None:
            continue
        reference = next(q for q in (built(builder, t) for t in REFERENCES) if q is not None)
        assert shape(query) == shape(reference), (name, text)
    for name, builder in IDENTIFIER_BUILDERS.items():
        assert built(builder, text) is None or re.fullmatch(r"[a-z_]+", text), (name, text)
        assert built(builder, "region" if name.startswith("inventory") else "host") is not None, name  # not one that refuses all


def splunk_leaves(sql: str) -> tuple[set[str], set[str]]:
    tree = sqlglot.condition(sql, dialect="athena")
    columns = {c.name for c in tree.find_all(exp.Column)}
    literals = {lit.this for lit in tree.find_all(exp.Literal) if lit.is_string}
    return columns, literals


@settings(max_examples=300, deadline=None)
@given(search=st.text(alphabet="'\"\\;-*/()%_:?=!<> é\nANDORNOTahost", max_size=60))
def test_a_logs_search_is_allow_listed_columns_placeholders_and_its_own_literals(search):
    try:
        compiled = sq.EventFilter.of(RANGE, search).search
    except InvalidRequest:
        return
    columns, literals = splunk_leaves(compiled.sql)
    assert columns <= {f.column for f in FIELDS.values()}
    assert literals <= {"\\"}  # LIKE's ESCAPE character: the compiler's own
