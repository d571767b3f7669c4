"""One escaping path: URL and data text shows as its characters, and CSV cells never run as formulas."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from daivi_ui.text import FORMULA_PREFIXES, WORD_JOINER, code_literal, csv_bytes, literal

MARKDOWN = MarkdownIt("commonmark")
PAYLOADS = [
    "[click me](https://evil.example/phish)", "![x](https://evil.example/pixel.png)", "<img src=https://evil.example/i.png>",
    "<script>alert(1)</script>", "$\\frac{1}{2}$", "$$x^2$$", ":red[alarm] :material/warning: :smile:", "**bold** _em_ `code`",
    "# heading", "> quote", "- item", "1. item", "| a | b |", "https://evil.example/autolink", "<https://evil.example/a>",
    "line one\n\n# line two", "\\*not escaped\\*", "&lt;img&gt; &amp;", "[ref]: https://evil.example", "~~strike~~",
    "back\\slash", "=cmd|'/C calc'!A0", "a\u2028b",
]


def rendered_text(markdown: str) -> tuple[str, str]:
    """(html, text) of `markdown` as a CommonMark renderer shows it."""
    html = MARKDOWN.render(markdown)
    text = re.sub(r"<[^>]+>", "", html).strip().replace(WORD_JOINER, "")
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&amp;", "&")):
        text = text.replace(entity, char)
    return html, text


def one_line(value: str) -> str:
    """What a notice shows of `value`: control characters and line breaks as spaces, edges trimmed."""
    return re.sub(r"[\x00-\x1f\x7f\x85\u2028\u2029]+", " ", value).strip()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_render_as_their_own_characters(payload):
    html, text = rendered_text(literal(payload))
    assert html.startswith("<p>") and html.count("<p>") == 1, html  # one paragraph: no heading, list, quote or table
    assert not re.search(r"<(a|img|em|strong|code|h\d|script|del|blockquote|li|table)\b", html), html
    assert text == one_line(payload)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_any_text_renders_as_itself_with_no_markup(value):
    html, text = rendered_text(literal(value))
    if not one_line(value):
        return
    assert not re.search(r"<(a|img|em|strong|code|h\d|del|blockquote|li|table|hr|pre)\b", html), html
    assert text == one_line(value)


@given(st.text(max_size=60))
def test_streamlit_directives_and_latex_are_always_escaped(value):
    escaped = literal(value)
    # Every `$` and `:` (LaTeX, :color[...], :material/...:, emoji codes) is preceded by a backslash.
    assert not re.search(r"(?<!\\)(\\\\)*[$:]", escaped.replace("\\$", "").replace("\\:", ""))


@pytest.mark.parametrize("value", ["https://evil.example/p", "HTTP://EVIL.EXAMPLE", "www.evil.example", "WWW.evil.example",
                                   "someone@evil.example", "ftp://x.example"])
def test_urls_and_addresses_cannot_autolink(value):
    # Streamlit links bare URLs, www. names and e-mail addresses in rendered text: a word joiner breaks each.
    escaped = literal(value)
    assert WORD_JOINER in escaped and escaped.replace(WORD_JOINER, "").replace("\\", "") == value


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_a_code_span_shows_any_text_as_itself(value):
    html, text = rendered_text(code_literal(value))
    if not one_line(value):
        return
    assert html.count("<code>") == 1 and not re.search(r"<(a|img|em|strong)\b", html), html
    # CommonMark strips one space from both ends of a padded code span and keeps the rest.
    assert text == one_line(value)


def test_long_values_are_cut():
    assert literal("x" * 1_000).endswith("…") and len(literal("x" * 1_000)) == 501


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=20), min_size=1, max_size=8))
def test_no_csv_text_cell_can_start_a_formula(values):
    df = pd.DataFrame({"name": values, "=HYPERLINK(\"x\")": values, "cost": [-1.5] * len(values)})
    rows = list(csv.reader(io.StringIO(csv_bytes(df).decode("utf-8"), newline="")))
    header, body = rows[0], rows[1:]
    assert header[1].startswith("'=")
    for row, original in zip(body, values, strict=True):
        for cell in row[:2]:
            assert not cell.startswith(FORMULA_PREFIXES) or cell == ""
            assert cell in (original, "'" + original) or (original != original.strip() and cell.strip() == original.strip())
        assert row[2] == "-1.5"  # numbers stay numbers, negative ones included


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "＝1+1"])
def test_owasp_formula_cells_are_quoted(cell):
    out = csv_bytes(pd.DataFrame({"v": [cell]})).decode("utf-8")
    assert next(csv.reader(io.StringIO(out.split("\n", 1)[1])))[0] == "'" + cell


# --- charts: plotly draws `<a href>` in a label as a link and `<b>` as bold ------------------------------

HTML_LABEL = '<a href="https://evil.example/a">a</a> <b>b</b> & <img src=x>'


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _assert_no_raw_markup(fig) -> None:
    texts = _strings(fig.to_plotly_json())
    assert not [t for t in texts if "<a " in t or "<b>b" in t or "<img" in t]
    assert any("&lt;a href" in t for t in texts)


def test_chart_labels_from_data_show_literally():
    from daivi_ui import figures_cost, figures_inventory, figures_workbench

    counts = pd.DataFrame({"account_id": [HTML_LABEL, "111111111111"], "resources": [3, 2]})
    _assert_no_raw_markup(figures_inventory.build_count_bar_figure(counts, "account_id", f"by {HTML_LABEL}"))
    movers = pd.DataFrame({"group": [HTML_LABEL], "change": [5.0], "previous": [1.0], "current": [6.0], "contribution_pp": [1.0]})
    _assert_no_raw_markup(figures_cost.build_movers_figure(movers, movers.iloc[0:0]))
    table = pd.DataFrame({"name": [HTML_LABEL, "x"], "cost": [1.0, 2.0]})
    _assert_no_raw_markup(figures_workbench.build_quick_chart(table, "name", "cost", color="name"))


def test_every_figure_builder_shows_data_literally():
    import inspect

    from daivi_ui import figures_cost, figures_cur, figures_import, figures_inventory, figures_logs, figures_workbench

    for module in (figures_cost, figures_cur, figures_import, figures_inventory, figures_logs, figures_workbench):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("build_") and function.__module__ == module.__name__:
                assert getattr(function, "__wrapped__", None) is not None, f"{module.__name__}.{name} is not @literal_labels"
