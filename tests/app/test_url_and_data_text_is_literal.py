"""Text from the URL reaches the screen as text: every view, every URL parameter, a Markdown/HTML/LaTeX payload.

Each view is run with all of its URL parameters set to a payload that would be a
link, an image the browser fetches, LaTeX or a Streamlit directive if it were
interpreted. Whatever the page writes in Markdown-rendering elements (notices,
captions, subheaders, button and expander labels, errors) is rendered here with a
CommonMark renderer: no link or image to another host may come out of it.
"""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from tests.app.conftest import page_text

PAYLOAD = ('[phish](https://evil.example/p) ![px](https://evil.example/i.png) <img src=https://evil.example/h.png> $x^2$ :red[r] '
           '<a href="https://evil.example/a">a</a>')
VIEW_PARAMS = {
    "cost_explorer.py": ("range", "start", "end", "grain", "basis", "group", "group2", "chart", "compare", "tab", "ftag",
                         "f_tag", "m_tag", "top", "view2", "anomaly_by", "f_service", "f_account"),
    "cur.py": ("period", "drill", "basis", "tab", "tag_key", "shared", "top", "chart"),
    "inventory.py": ("snapshot", "since", "q", "type", "account", "region", "state", "tags", "size", "cols",
                     "hist_kind", "hist_account", "hist_resource", "hist_on", "hist_vs", "tab"),
    "logs.py": ("q", "range", "from", "to", "anchor", "tab", "field", "by", "stat", "of", "split", "cols"),  # `page` is run_page's own argument
    "workbench.py": ("sql", "tab"),
    "import_data.py": ("mode",),
}
# Values a view quotes back in full in its notices ("No resource with id …").
ACTED_ON = [("inventory.py", {"tab": "Detail", "resource": PAYLOAD}), ("inventory.py", {"tab": "Detail", "host": PAYLOAD}),
            ("inventory.py", {"tab": "History", "hist_kind": "Resource", "hist_resource": PAYLOAD})]
MARKDOWN = MarkdownIt("commonmark")


def markdown_sources(at) -> list[str]:
    """Every string the page handed to a Markdown-rendering element."""
    texts = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error", "success", "exception"):
        texts += [str(e.value) for e in getattr(at, kind)]
    for kind in ("button", "expander", "checkbox", "toggle", "radio", "selectbox", "multiselect", "text_input", "tabs"):
        texts += [str(getattr(e, "label", "")) for e in getattr(at, kind, [])]
    return texts


def assert_nothing_interpreted(at) -> None:
    assert not at.exception, at.exception
    for source in markdown_sources(at):
        html = MARKDOWN.render(source)
        # No image at all, and links only to the app itself (relative: a host link in Logs opens the inventory).
        assert not re.search(r"<img\b", html) and not re.search(r'<a\b[^>]*href="(?![./?#])', html), f"interpreted: {source!r}"
        assert "evil.example" not in re.sub(r"<[^>]+>", "", html) or "\\" in source, source


@pytest.mark.parametrize("view", sorted(VIEW_PARAMS))
def test_every_url_parameter_of_every_view_shows_literally(run_page, view):
    at = run_page("admin", view, **dict.fromkeys(VIEW_PARAMS[view], PAYLOAD))
    assert_nothing_interpreted(at)


@pytest.mark.parametrize(("view", "params"), ACTED_ON, ids=[f"{v}-{next(iter(p.values()))[:12]}-{list(p)[-1]}" for v, p in ACTED_ON])
def test_values_a_view_quotes_back_show_as_text(run_page, view, params):
    at = run_page("admin", view, **params)
    assert_nothing_interpreted(at)
    # The user reads what the URL said, character for character, in a notice.
    assert "![px](https://evil.example/i.png)" in page_text(at)


# --- text from imported data ----------------------------------------------------------------------

def build_hostile_lakehouse(tmp_path):
    """A lakehouse imported from exports whose names, tags, hosts and messages are payloads."""
    from daivi_data.ingest import run_import
    from tests.unit.test_ingest_formats import config_item, splunk_events, write_config_snapshot, write_splunk_jsonl

    items = [config_item("AWS::EC2::Instance", "i-0123456789abcdef0", name=PAYLOAD, tags={"team": PAYLOAD, PAYLOAD[:40]: "x"}),
             config_item("AWS::EC2::Volume", "vol-0123456789abcdef0", name="$\\LaTeX$ :red[vol]")]
    write_config_snapshot(tmp_path / "exports" / "config", items)
    events = [{**e, "host": PAYLOAD, "_raw": PAYLOAD, "source": "![s](https://evil.example/s.png)"} for e in splunk_events()[:3]]
    write_splunk_jsonl(tmp_path / "exports" / "splunk" / "export.jsonl", events)
    lakehouse = tmp_path / "lh"
    run_import([tmp_path / "exports"], lakehouse)
    return lakehouse


@pytest.fixture
def hostile_lakehouse(tmp_path, monkeypatch):
    lakehouse = build_hostile_lakehouse(tmp_path)
    monkeypatch.setenv("DAIVI_LAKEHOUSE_PATH", str(lakehouse))
    return lakehouse


@pytest.mark.parametrize(("view", "params"), [
    ("inventory.py", {"snapshot": "2024-09-18", "tab": "Search"}),
    ("inventory.py", {"snapshot": "2024-09-18", "tab": "Detail", "resource": "i-0123456789abcdef0"}),
    ("inventory.py", {"snapshot": "2024-09-18", "tab": "Detail", "host": PAYLOAD}),
    ("logs.py", {"range": "7d"}),
    ("logs.py", {"range": "7d", "tab": "Stats", "by": "host"}),
])
def test_imported_names_tags_hosts_and_messages_show_literally(run_page, hostile_lakehouse, view, params):
    at = run_page("admin", view, **params)
    assert_nothing_interpreted(at)
    assert "evil.example" in page_text(at)  # the payload is on the page: as text
