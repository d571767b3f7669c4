"""Wiki embeds and finance-grade screens in a real browser.

Labels on screen while the URL keeps its keys; every view embedded in a 900x600
iframe with nothing cut; `show=` parts; the dark theme; the demo persona kept
across a link to another view; "previous month" on the 1st of a month.
Waits are on Streamlit's own state and on elements, never on time.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import urllib.parse
from dataclasses import dataclass

import pytest

from daivi_data import clock
from tests.e2e.conftest import PAGE_TIMEOUT_MS, streamlit_server, wait_for_app

IFRAME = {"width": 900, "height": 600}
# Text in an element that does not fit: Streamlit cuts metric values and labels with an ellipsis.
CUT_ELEMENTS = """() => [...document.querySelectorAll(
    '[data-testid="stMetricValue"], [data-testid="stMetricValue"] *, [data-testid="stMetricDelta"] *')]
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""


def idle(target) -> None:
    """Connected, and the script run finished (a page or a frame): conftest.wait_for_app, which takes either."""
    wait_for_app(target)


def url_params(url: str) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlparse(url).query)


# --- labels, keys ---------------------------------------------------------------------------------

def test_labels_on_screen_keys_in_the_url_and_old_links_open(page, app_url):
    # A link made before labels existed: its short keys still open the view they describe.
    page.goto(f"{app_url}/cost-explorer?persona=finance&range=previous-month&group=usage_type&basis=net_unblended&grain=weekly")
    page.locator(".st-key-cost_chart .legendtext").first.wait_for()
    idle(page)
    assert page.locator(".st-key-range input").input_value() == "Previous month"
    assert page.locator(".st-key-group input").input_value() == "Usage type"
    assert page.locator(".st-key-basis input").input_value() == "Net unblended"
    assert page.locator(".st-key-persona input").input_value() == "Fiona Finance"
    assert page.locator(".st-key-grain").get_by_role("radio", checked=True).inner_text() == "Weekly"

    # Choosing by label writes the key, not the label, into the URL.
    page.locator(".st-key-grain").get_by_role("radio", name="Monthly", exact=True).click()
    page.wait_for_function("() => new URLSearchParams(window.location.search).get('grain') === 'monthly'")
    idle(page)
    params = url_params(page.url)
    assert params["range"] == ["previous-month"] and params["group"] == ["usage_type"] and params["persona"] == ["finance"]
    assert not any(" " in v for values in params.values() for v in values)  # no label ("Usage type") in the URL


# --- embeds ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Embed:
    """One view embedded in a wiki page, and what it must show there."""

    url: str  # path and query of the view (the root is Home), without embed=true
    who: str  # whom the identity line names
    drawn: str  # an element the view draws when it is done
    count: int | None = None  # how many of `drawn` exactly, when the view's grants fix it
    text: str = ""  # text the embed must show (a regular expression)
    title: str = ""  # the view's heading, which the compact layout leaves out
    absent: tuple[str, ...] = ()  # text the compact layout leaves out (intros)


# The one embed test: every view, for a persona of each role, plus the URLs earlier per-view embed tests opened.
EMBEDS = {
    "cost-explorer": Embed("cost-explorer?persona=finance", "Fiona Finance", ".st-key-cost_chart .legendtext"),
    "cost-explorer-by-account": Embed("cost-explorer?persona=admin&group=account", "Ada Admin", ".st-key-cost_chart .legendtext",
                                      title="Cost Explorer", absent=("AWS cost by service",)),
    "cur": Embed("cur?persona=finance", "Fiona Finance", '[data-testid="stPlotlyChart"] .barlayer path'),
    "inventory": Embed("inventory?persona=ops", "Omar Ops", '[data-testid="stPlotlyChart"]'),
    "inventory-waste": Embed("inventory?persona=admin&tab=Waste", "Ada Admin", '[data-testid="stMetric"]', count=3, title="Inventory"),
    "logs": Embed("logs?persona=ops", "Omar Ops", '.st-key-timeline [data-testid="stPlotlyChart"]'),
    "logs-5xx": Embed("logs?persona=admin&q=status%3E%3D500", "Ada Admin", '.st-key-timeline [data-testid="stPlotlyChart"] .barlayer path',
                      text=r"[1-9][\d,]* events match", title="Logs"),
    "workbench": Embed("workbench?persona=teamlead", "Tara Teamlead", '[data-testid="stTextArea"]'),
    "home": Embed("?persona=finance", "Fiona Finance", '[data-testid="stMetric"]', count=3),
    "home-admin": Embed("?persona=admin", "Ada Admin", '[data-testid="stMetric"]', count=4, title="DAIVI Lakehouse Explorer"),
}


def embedded(page, app_url: str, query: str):
    """The app in a 900x600 iframe of a wiki-like page; returns the frame once it is drawn."""
    page.set_viewport_size({"width": 1000, "height": 700})
    page.set_content(f'<html><body style="margin:0"><iframe id="wiki" src="{app_url}/{query}" '
                     f'width="{IFRAME["width"]}" height="{IFRAME["height"]}" style="border:0"></iframe></body></html>')
    frame = page.frame_locator("#wiki")
    frame.locator('[data-testid="stApp"]').wait_for()
    return page.frame(url=lambda u: u.startswith(app_url))


@pytest.mark.parametrize("name", sorted(EMBEDS))
def test_each_view_embeds_compact_in_a_900x600_wiki_iframe(page, app_url, name):
    embed = EMBEDS[name]
    separator = "&" if "?" in embed.url else "?"
    frame = embedded(page, app_url, f"{embed.url}{separator}embed=true")
    frame.wait_for_selector(embed.drawn, state="attached", timeout=PAGE_TIMEOUT_MS)
    idle(frame)
    assert not frame.locator('[data-testid="stException"]').count()
    if embed.count is not None:
        assert frame.locator(embed.drawn).count() == embed.count
    if embed.text:
        frame.get_by_text(re.compile(embed.text)).first.wait_for()
    # Whose grants the numbers are under, always said, in the first screenful.
    identity = frame.get_by_text(f"as {embed.who}").first
    identity.wait_for()
    assert identity.bounding_box()["y"] < IFRAME["height"]
    assert frame.evaluate(CUT_ELEMENTS) == []
    # Nothing wider than the iframe (no sideways scrolling).
    assert frame.evaluate("() => document.documentElement.scrollWidth") <= IFRAME["width"]
    # Compact: no title, no sidebar or page navigation, no intro.
    assert not frame.locator("h1").count()
    assert not frame.locator('[data-testid="stSidebar"], [data-testid="stSidebarNav"]').count()
    if embed.title:
        assert not frame.get_by_role("heading", name=embed.title).count()
    for text in embed.absent:
        assert not frame.get_by_text(text).count(), text


def test_embedded_cost_explorer_puts_the_chart_first_and_folds_the_controls(page, app_url):
    frame = embedded(page, app_url, "cost-explorer?embed=true&persona=finance&range=previous-month")
    frame.wait_for_selector(".st-key-cost_chart .legendtext", state="attached", timeout=PAGE_TIMEOUT_MS)
    idle(frame)
    summary = frame.locator('[data-testid="stExpander"] summary').filter(has_text="Previous month").first
    assert summary.bounding_box()["y"] > frame.locator(".st-key-cost_chart").bounding_box()["y"]
    assert not frame.locator(".st-key-range").is_visible()  # folded
    summary.click()
    frame.locator(".st-key-range input").wait_for()
    assert frame.locator(".st-key-range input").input_value() == "Previous month"


SHOW = [
    ("chart", {"chart"}),
    ("table", {"table"}),
    ("kpis", {"kpis"}),
    ("chart,kpis", {"chart", "kpis"}),
]
PART_SELECTORS = {"chart": ".st-key-cost_chart", "table": '[data-testid="stDataFrame"]', "kpis": '[data-testid="stMetric"]'}


@pytest.mark.parametrize(("show", "parts"), SHOW, ids=[s[0] for s in SHOW])
def test_show_embeds_only_the_parts_asked_for(page, app_url, show, parts):
    frame = embedded(page, app_url, f"cost-explorer?embed=true&persona=finance&show={show}")
    for part in parts:
        frame.wait_for_selector(PART_SELECTORS[part], state="attached", timeout=PAGE_TIMEOUT_MS)
    idle(frame)
    for part, selector in PART_SELECTORS.items():
        if part not in parts:
            assert not frame.locator(selector).count(), part
    assert not frame.get_by_role("tab").count()  # no tabs, no query stats: only the parts
    assert frame.get_by_text("as Fiona Finance").count()


def background_luminance(target) -> float:
    rgb = target.evaluate("() => getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor")
    r, g, b = (int(v) for v in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_theme_follows_the_url_and_otherwise_the_viewer(browser, app_url):
    context = browser.new_context(viewport={"width": 900, "height": 600}, color_scheme="light")
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(f"{app_url}/cost-explorer?embed=true&persona=finance&theme=dark")
    page.wait_for_url(lambda u: "dark_theme" in u)  # reloaded once with Streamlit's own embed option
    page.locator(".st-key-cost_chart").wait_for()
    idle(page)
    assert background_luminance(page) < 0.3
    assert url_params(page.url)["theme"] == ["dark"]
    context.close()

    # No theme in the URL: the viewer's own preference, nothing pinned by the app.
    context = browser.new_context(viewport={"width": 900, "height": 600}, color_scheme="dark")
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(f"{app_url}/cost-explorer?embed=true&persona=finance")
    page.locator(".st-key-cost_chart").wait_for()
    idle(page)
    assert background_luminance(page) < 0.3
    context.close()


# --- cross-view links, sign-in ----------------------------------------------------------------------

def test_a_link_to_another_view_keeps_the_demo_persona(page, app_url):
    page.goto(f"{app_url}/logs?persona=ops&range=7d")
    link = page.locator('[data-testid="stMarkdownContainer"] a[href*="inventory?host="]').first
    link.wait_for()
    assert url_params(link.get_attribute("href"))["persona"] == ["ops"]
    with page.context.expect_page() as opened:
        link.click()
    inventory = opened.value
    inventory.set_default_timeout(PAGE_TIMEOUT_MS)
    inventory.get_by_text("Signed in as").first.wait_for()
    idle(inventory)
    assert "Omar Ops" in inventory.get_by_text("Signed in as").first.inner_text()  # not the admin
    # ... and an in-app page switch keeps it too.
    inventory.get_by_role("link", name="Cost Explorer").click()
    inventory.wait_for_url(lambda u: "/cost-explorer" in u)
    inventory.locator(".st-key-cost_chart").wait_for()
    assert "Omar Ops" in inventory.get_by_text("Signed in as").first.inner_text()


# --- dates ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def first_of_month_url(app_env, tmp_path_factory):
    """A second server whose calendar says it is the 1st of this month (`DAIVI_TODAY`)."""
    first = clock.today().replace(day=1)
    env = {**os.environ, **app_env, "DAIVI_TODAY": first.isoformat()}
    with streamlit_server(env, tmp_path_factory.mktemp("first-of-month") / "server.log") as url:
        yield url, first


def test_previous_month_on_the_first_of_a_month_is_the_month_just_ended(page, first_of_month_url):
    url, first = first_of_month_url
    ended = (first - dt.timedelta(days=1)).replace(day=1)  # the month that ended yesterday
    page.goto(f"{url}/cost-explorer?persona=finance&range=previous-month")
    page.locator(".st-key-cost_chart .legendtext").first.wait_for()
    idle(page)
    assert page.locator(".st-key-start_shown input").input_value() == ended.isoformat()
    assert page.locator(".st-key-end_shown input").input_value() == (first - dt.timedelta(days=1)).isoformat()
    # The month that just closed is not forecast: the forecast is of the open month.
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    assert any(f"Forecast {first:%b}" in label for label in labels), labels
    assert not any(f"Forecast {ended:%b}" in label for label in labels), labels
