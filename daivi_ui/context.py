"""What every page needs: settings, the signed-in principal, their grants, the connection.

`init_app()` runs in the entry point (Home.py) on every rerun: it validates the
settings, builds the demo lakehouse on first run, signs the user in and draws
the shared sidebar. Pages then call `app_context()` to get the same context.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

import streamlit as st

from daivi_data import clock
from daivi_data.connection import CONNECTION_NAME, LakehouseConnection, clear_cached
from daivi_data.engines import QueryResult
from daivi_data.errors import DaiviError
from daivi_data.governance import RoleGrants, load_policy
from daivi_data.identity import Principal, load_personas, principal_for_persona
from daivi_data.lakehouse.manifest import is_outdated, read_manifest
from daivi_data.queries import Query
from daivi_data.settings import Settings, load_settings
from daivi_ui.errors import stop_with_error
from daivi_ui.state import check_url_param, labelled_choice
from daivi_ui.text import code_literal, literal

_CONTEXT_KEY = "_daivi_context"
DEFAULT_PERSONA = "admin"
# What an embed may show on its own (`&show=chart,kpis`): the rest of the view stays hidden.
EMBED_PARTS = ("chart", "table", "kpis")
THEMES = ("dark", "light")


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    principal: Principal
    grants: RoleGrants
    connection: LakehouseConnection
    embed: bool
    show: frozenset[str] = frozenset()  # parts an embed asked for; empty: everything

    def run(self, query: Query) -> QueryResult:
        """Run a query as the signed-in principal (cached per principal)."""
        return self.connection.run(query, self.principal)

    def can_read(self, lakehouse: str) -> bool:
        return self.grants.can_read_lakehouse(lakehouse)

    def shows(self, part: str) -> bool:
        """Whether to draw a part of the view (chart, table, kpis): all of them unless an embed chose some."""
        return not self.show or part in self.show

    @property
    def shows_everything(self) -> bool:
        """False in an embed that asked for some parts only: controls, tabs and notes stay out of it."""
        return not self.show

    @property
    def today(self) -> dt.date:
        return clock.today()

    @property
    def now(self) -> dt.datetime:
        """The current time, naive UTC (as the lakehouses store it)."""
        return clock.now()

    def link(self, url_path: str, **params: str) -> str:
        """A relative link to another view that keeps the demo persona (a new tab would otherwise be the admin)."""
        if self.principal.source == "demo" and self.principal.user_id != f"demo:{DEFAULT_PERSONA}":
            params = {**params, "persona": self.principal.user_id.removeprefix("demo:")}
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"./{url_path}" + (f"?{query}" if query else "")


def _ensure_demo_lakehouse(settings: Settings) -> None:
    """Build the demo lakehouse on first run, or again when an older version built it, with visible progress.

    An imported lakehouse in an older layout is never replaced: the engine refuses it with what to do.
    """
    if settings.engine != "duckdb":
        return
    manifest = read_manifest(settings.lakehouse_path)
    outdated_demo = manifest.get("kind") == "demo" and is_outdated(manifest)
    if manifest and not outdated_demo:
        return
    from daivi_data.demo import build_demo_lakehouse

    st.title("Setting up DAIVI Lakehouse Explorer")
    where = f"`{settings.lakehouse_path}`"
    st.write(
        (f"The demo lakehouse at {where} was built by an older version of this app" if outdated_demo else
         f"No lakehouse found at {where}") + f": building the **{settings.demo_scale}** demo lakehouse "
        "(billing, CUR, inventory and Splunk data of a generated organization). This happens once."
    )
    bar = st.progress(0.0, text="Starting…")
    try:
        def progress(fraction: float, message: str) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=message)

        build_demo_lakehouse(settings.lakehouse_path, scale=settings.demo_scale, progress=progress)
    except DaiviError as e:
        stop_with_error(e)
    forget_cached_data()
    st.rerun()


def forget_cached_data() -> None:
    """Drop every cached result and derived value, and the engine that points at the old files: after the lakehouse
    under the app changed (a build, an import)."""
    st.cache_data.clear()
    clear_cached()
    st.cache_resource.clear()


def _sign_in(settings: Settings, embed: bool) -> Principal:
    """The principal for this session: a demo persona, or the identity from OIDC / a trusted proxy."""
    if settings.personas_allowed:
        personas = load_personas(settings.personas_file)
        if embed:
            check_url_param("persona", personas, "demo persona")
            # Embedded in the wiki: no sidebar, the persona comes from the URL alone.
            key = st.query_params.get("persona", DEFAULT_PERSONA)
            return principal_for_persona(settings, key if key in personas else DEFAULT_PERSONA)
        with st.sidebar:
            # Names on screen, the persona key in the URL (`?persona=finance`).
            key = labelled_choice(
                st.selectbox, "Demo sign-in", {k: p.display_name for k, p in personas.items()},
                key="persona", default=DEFAULT_PERSONA, what="demo persona", sticky=True,
                help="Demo personas exist only on the embedded engine. Each maps to a role of config/grants.toml.",
            )
        return principal_for_persona(settings, key)
    from daivi_ui.auth import signed_in_principal

    return signed_in_principal(settings)


def embed_parts(embed: bool) -> frozenset[str]:
    """The parts `&show=chart,table` asks an embed to show (repeated or comma-separated); a notice for others."""
    if not embed:
        return frozenset()
    check_url_param("show", EMBED_PARTS, "show (chart, table, kpis)")
    from daivi_ui.state import url_values

    return frozenset(v for v in url_values("show") if v in EMBED_PARTS)


def follow_theme_from_url() -> None:
    """`?theme=dark|light` in an embed: the wiki's theme. Without it the viewer's own preference applies.

    Streamlit picks an embed's theme from `embed_options=dark_theme|light_theme` when the page loads,
    so a `theme=` link is reloaded once with that option added.
    """
    theme = st.query_params.get("theme")
    if theme is None:
        return
    if theme not in THEMES:
        check_url_param("theme", THEMES, "theme (dark or light)")
        return
    st.html(
        "<script>(() => {"
        f"const wanted = '{theme}_theme';"
        "const url = new URL(window.location.href);"
        "const options = url.searchParams.getAll('embed_options');"
        "if (options.includes(wanted)) return;"
        "url.searchParams.delete('embed_options');"
        "for (const o of options) if (!o.endsWith('_theme')) url.searchParams.append('embed_options', o);"
        "url.searchParams.append('embed_options', wanted);"
        "window.location.replace(url.toString());"
        "})();</script>",
        unsafe_allow_javascript=True,
    )


FOLD_SIDEBAR_AT_PX = 820  # an 800 px window: the sidebar would take a third of it


def fold_sidebar_on_narrow_windows() -> None:
    """Fold the sidebar once per browser tab when the window is narrow, as Streamlit does only below 768 px.

    Once only (sessionStorage): a reader who opens it again keeps it open across reruns and views.
    """
    st.html(
        "<script>(() => {"
        f"if (window.innerWidth > {FOLD_SIDEBAR_AT_PX} || sessionStorage.getItem('daivi-sidebar-folded')) return;"
        "let tries = 0;"
        "const fold = () => {"
        "const button = document.querySelector('[data-testid=\"stSidebarCollapseButton\"] button');"
        "if (button) { sessionStorage.setItem('daivi-sidebar-folded', '1'); button.click(); }"
        "else if (++tries < 50) setTimeout(fold, 100);"
        "};"
        "fold();"
        "})();</script>",
        unsafe_allow_javascript=True,
    )


def init_app() -> AppContext:
    """Validate settings, build demo data if needed, sign in, draw the shared sidebar."""
    try:
        settings = load_settings()
    except DaiviError as e:
        stop_with_error(e)
    _ensure_demo_lakehouse(settings)
    embed = bool(st.context.is_embedded)
    try:
        principal = _sign_in(settings, embed)
        grants = load_policy(settings.grants_file).for_role(principal.role)
        connection = st.connection(CONNECTION_NAME, type=LakehouseConnection, settings=settings)
    except DaiviError as e:
        stop_with_error(e)
    # KPI figures a touch smaller than Streamlit's 2.25 rem, so "−$324.3k" fits a 160 px tile (see components.kpi_row).
    st.html('<style>[data-testid="stMetricValue"]{font-size:2rem}</style>')
    if embed:
        follow_theme_from_url()
        # A wiki iframe is small: Streamlit's wide-layout margins (5 rem a side) would take a fifth of 900 px.
        st.html('<style>[data-testid="stMainBlockContainer"]{padding:0.75rem 1rem 1rem 1rem}</style>')
        # Whoever reads the wiki page sees whose grants the numbers are under.
        demo = " (demo persona)" if principal.source == "demo" else ""
        st.caption(f":material/person: as **{principal.display_name}** · {principal.role}{demo}")
    else:
        fold_sidebar_on_narrow_windows()
        with st.sidebar:
            label = "demo persona" if principal.source == "demo" else principal.source
            st.caption(f"Signed in as **{literal(principal.display_name)}** ({literal(principal.email)}) · role {code_literal(principal.role)} · {label}")
            st.caption(f"Engine: `{settings.engine}`")
    context = AppContext(settings, principal, grants, connection, embed, embed_parts(embed))
    st.session_state[_CONTEXT_KEY] = context
    return context


def app_context() -> AppContext:
    """The context `init_app()` made in this rerun (pages run after the entry point)."""
    context = st.session_state.get(_CONTEXT_KEY)
    if context is None:  # a page script run on its own, outside the entry point
        context = init_app()
    return context
