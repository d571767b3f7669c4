"""What every page needs: settings, the signed-in principal, their grants, the connection.

`init_app()` runs in the entry point (Home.py) on every rerun: it validates the
settings, builds the demo lakehouse on first run, signs the user in and draws
the shared sidebar. Pages then call `app_context()` to get the same context.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from daivi_data.connection import CONNECTION_NAME, LakehouseConnection
from daivi_data.engines import QueryResult
from daivi_data.errors import DaiviError
from daivi_data.governance import RoleGrants, load_policy
from daivi_data.identity import Principal, load_personas, principal_for_persona
from daivi_data.queries import Query
from daivi_data.settings import Settings, load_settings
from daivi_ui.errors import stop_with_error
from daivi_ui.state import URL, check_url_param
from daivi_ui.text import code_literal, literal

_CONTEXT_KEY = "_daivi_context"
DEFAULT_PERSONA = "admin"


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    principal: Principal
    grants: RoleGrants
    connection: LakehouseConnection
    embed: bool

    def run(self, query: Query) -> QueryResult:
        """Run a query as the signed-in principal (cached per principal)."""
        return self.connection.run(query, self.principal)

    def can_read(self, lakehouse: str) -> bool:
        return self.grants.can_read_lakehouse(lakehouse)

    @property
    def today(self) -> dt.date:
        return dt.datetime.now(dt.UTC).date()


def _ensure_demo_lakehouse(settings: Settings) -> None:
    """Build the demo lakehouse on first run, with visible progress."""
    if settings.engine != "duckdb" or (settings.lakehouse_path / "manifest.json").exists():
        return
    from daivi_data.demo import build_demo_lakehouse

    st.title("Setting up DAIVI Lakehouse Explorer")
    st.write(
        f"No lakehouse found at `{settings.lakehouse_path}`: building the **{settings.demo_scale}** demo lakehouse "
        "(billing, CUR, inventory and Splunk data of a generated organization). This happens once."
    )
    bar = st.progress(0.0, text="Starting…")
    try:
        build_demo_lakehouse(settings.lakehouse_path, scale=settings.demo_scale,
                             progress=lambda fraction, message: bar.progress(min(max(fraction, 0.0), 1.0), text=message))
    except DaiviError as e:
        stop_with_error(e)
    st.cache_data.clear()
    st.cache_resource.clear()
    st.rerun()


def _sign_in(settings: Settings, embed: bool) -> Principal:
    """The principal for this session: a demo persona, or the identity from OIDC / a trusted proxy."""
    if settings.personas_allowed:
        personas = load_personas(settings.personas_file)
        check_url_param("persona", personas, "demo persona")
        if embed:
            # Embedded in the wiki: no sidebar, the persona comes from the URL alone.
            key = st.query_params.get("persona", DEFAULT_PERSONA)
            return principal_for_persona(settings, key if key in personas else DEFAULT_PERSONA)
        with st.sidebar:
            key = st.selectbox(
                "Demo sign-in", options=list(personas), index=list(personas).index(DEFAULT_PERSONA),
                # No format_func: a URL-bound selectbox stores (and validates) the *formatted* option in the
                # URL, so a label here would make `?persona=finance` fall back to the default persona.
                key="persona", bind=URL,
                help="Demo personas exist only on the embedded engine. Each maps to a role of config/grants.toml.",
            )
        return principal_for_persona(settings, key)
    from daivi_ui.auth import signed_in_principal

    return signed_in_principal(settings)


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
    if not embed:
        with st.sidebar:
            label = "demo persona" if principal.source == "demo" else principal.source
            st.caption(f"Signed in as **{literal(principal.display_name)}** ({literal(principal.email)}) · role {code_literal(principal.role)} · {label}")
            st.caption(f"Engine: `{settings.engine}`")
    context = AppContext(settings, principal, grants, connection, embed)
    st.session_state[_CONTEXT_KEY] = context
    return context


def app_context() -> AppContext:
    """The context `init_app()` made in this rerun (pages run after the entry point)."""
    context = st.session_state.get(_CONTEXT_KEY)
    if context is None:  # a page script run on its own, outside the entry point
        context = init_app()
    return context
