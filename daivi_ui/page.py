"""One page skeleton for every view: the access gate, queries with their stats, errors in place, the embed layout.

A view is layout only. It opens its page, asks its page model (`daivi_data.models.<view>`) for
results through `page.run`/`page.derived`, and draws them:

    page = open_page("Cost Explorer", "AWS cost by ...", needs="billing")
    area = page.layout(summary=lambda: "Last 30 days · by service")
    df = page.run(billing.accounts())                       # a DaiviError stops the page with its message
    table = page.derived(model.breakdown, totals, keep)     # pandas work cached per principal and inputs
    page.stats()                                            # one caption line for every query behind the view
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn, TypeVar

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from daivi_data.engines import QueryResult
from daivi_data.engines.base import TableInfo
from daivi_data.errors import DaiviError
from daivi_data.queries import Query
from daivi_ui.components import empty_state, show_query_stats
from daivi_ui.context import AppContext, app_context
from daivi_ui.errors import show_error
from daivi_ui.tables import number_formats, show_table, table_cells

T = TypeVar("T")

LAKEHOUSE_NAMES = {"billing": "billing", "cur": "billing CUR", "inventory": "inventory", "splunk": "Splunk"}


@dataclass(frozen=True)
class Layout:
    """Where a view draws: an embed shows the figures first and folds its controls into a one-line summary."""

    chart_area: object
    controls: object
    body: object


@dataclass
class Page:
    ctx: AppContext
    results: list[QueryResult] = field(default_factory=list)
    # What each frame from `run` and each value from `derived` stands for in this run: the query, or the
    # computation and its inputs, that made it. `derived` keys its cache by these instead of hashing the
    # same frames again on every rerun. Frames from `run` / `derived` are therefore read-only.
    _origins: dict[int, tuple] = field(default_factory=dict, repr=False)
    _kept: list = field(default_factory=list, repr=False)  # each tracked value stays alive: its id is not reused

    def result(self, query: Query) -> QueryResult:
        """Run a named query as the signed-in principal; its stats join the caption under the view."""
        result = self.ctx.run(query)
        self.results.append(result)
        self._remember_rows(result, query)
        return result

    def run(self, query: Query) -> pd.DataFrame:
        """The rows of `query`, or the page stops with the error in place (the message, and the stats so far)."""
        try:
            return self.result(query).df
        except DaiviError as e:
            self.stop_with(e)

    def try_run(self, query: Query) -> pd.DataFrame | None:
        """The rows of `query`, or None after showing the error in place: for a part of a page that may fail alone."""
        try:
            return self.result(query).df
        except DaiviError as e:
            show_error(e)
            return None

    def derived(self, compute: Callable[..., T], *inputs) -> T:
        """`compute(*inputs)`, cached per principal, data and policy version and the hashed inputs.

        `compute` must be a pure function of its inputs (a page model function, not a closure over page
        state): a rerun of the page then redoes no pandas work, and no user is ever served another's.
        """
        keys = tuple(self._origins.get(id(value), value) for value in inputs)
        if any(key is not value for key, value in zip(keys, inputs, strict=True)):
            # Inputs this run made are keyed by how they were made (cheap to hash); the rest by their value.
            value = self.ctx.connection.derived(self.ctx.principal, _keyed(compute, inputs), *keys)
        else:
            value = self.ctx.connection.derived(self.ctx.principal, compute, *inputs)
        return self._remember(value, ("derived", f"{compute.__module__}.{compute.__qualname__}", keys))

    def _remember_rows(self, result: QueryResult, query: Query) -> None:
        # The versions the rows were read under are part of their origin: a grants edit or a rebuild between
        # this query and a value derived from its rows must not file that value under the new versions.
        self._remember(result.df, ("query", query.name, query.sql, query.params, result.versions))

    def _remember(self, value: T, origin: tuple) -> T:
        if isinstance(value, tuple):  # hashes cheaply itself; its parts may be frames a later `derived` reads
            for i, item in enumerate(value):
                self._remember(item, ("item", origin, i))
        elif not isinstance(value, (str, int, float, bool, type(None))):  # scalars hash cheaply and share ids
            self._origins[id(value)] = origin
            self._kept.append(value)
            if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a model's result: its frames, too
                for f in dataclasses.fields(value):
                    self._remember(getattr(value, f.name), ("field", origin, f.name))
        return value

    def figure(self, build: Callable[..., go.Figure], *inputs) -> go.Figure:
        """`build(*inputs)`, cached like `derived`. The cache keeps the figure's dict: plotly validates a
        figure again when it is unpickled, which costs as much as building it; this one is rebuilt unvalidated."""
        spec = self.derived(_figure_spec(build), *inputs)
        return go.Figure(spec, _validate=False)

    def table(self, df: pd.DataFrame, *, key: str, column_config: dict | None = None, **kwargs):
        """`daivi_ui.tables.show_table`, its cell formatting (Yes/No, blanks, which columns need a minus sign) cached like
        `derived`: a rerun formats no cell."""
        cells = self.derived(table_cells, df, frozenset(column_config or ()), number_formats(column_config))
        return show_table(df, key=key, column_config=column_config, cells=cells, **kwargs)

    def stop_with(self, error: Exception) -> NoReturn:
        show_error(error)
        self.stats()
        st.stop()
        raise AssertionError("unreachable")  # st.stop() raises; this keeps type checkers honest

    def table_with_data(self, database: str, table: str, missing: str) -> TableInfo:
        """The table's info when it holds data; else the page ends with `missing` (what to do to get some)."""
        info = self.ctx.connection.engine.table_info(database, table)
        if not info.exists or not info.latest_partition:
            empty_state(missing)
            st.stop()
        return info

    def mark(self) -> int:
        """A position in the stats: `stats(since=mark)` shows only the queries run after it (a tab's own)."""
        return len(self.results)

    def stats(self, since: int = 0) -> None:
        show_query_stats(self.results[since:])

    def layout(self, summary: Callable[[], str] | None = None) -> Layout:
        """Containers in drawing order. In an embed the chart comes first and the controls fold under `summary()`."""
        if self.ctx.embed:
            chart_area = st.container()
            controls = st.expander(summary() if summary else "Options", icon=":material/tune:")
            return Layout(chart_area, controls, st.container())
        top, body = st.container(), st.container()
        return Layout(body, top, body)


def _keyed(compute: Callable[..., T], inputs: tuple) -> Callable[..., T]:
    """`compute(*inputs)` under `compute`'s name, called with the keys that stand for `inputs` (and ignoring them)."""
    def keyed(*_keys) -> T:
        return compute(*inputs)

    keyed.__module__, keyed.__qualname__ = compute.__module__, compute.__qualname__
    return keyed


def _figure_spec(build: Callable[..., go.Figure]) -> Callable[..., dict]:
    """`build` returning the figure's dict; named after `build`, which keys its cache."""
    def spec(*inputs) -> dict:
        return build(*inputs).to_dict()

    spec.__module__, spec.__qualname__ = build.__module__, f"{build.__qualname__}.to_dict"
    return spec


def open_page(title: str, caption: str, *, needs: str | None = None) -> Page:
    """The page for a view: its title and caption (not in an embed), and the gate on the lakehouse it reads."""
    ctx = app_context()
    if not ctx.embed:
        st.title(title)
        if caption:  # Home writes its own line under the title
            st.caption(caption)
    if needs is not None and not ctx.can_read(needs):
        st.warning(f"Your role (`{ctx.principal.role}`) may not read the {LAKEHOUSE_NAMES.get(needs, needs)} lakehouse. "
                   "Ask the data platform team for access.", icon=":material/lock:")
        st.stop()
    return Page(ctx)
