"""DAIVI Lakehouse Explorer: the entry point (page config, sign-in, navigation, shared sidebar)."""

from pathlib import Path

import streamlit as st

from daivi_ui.context import init_app
from daivi_ui.navigation import HOME, View, not_allowed_reason, views_for, views_not_for

# The favicon is a local file: a `:material/…:` icon makes the browser fetch it from Google's font host,
# and a page must ask no host but this app for anything (intranets, privacy, embedded pages).
FAVICON = str(Path(__file__).parent / "static" / "favicon.png")
st.set_page_config(page_title="DAIVI Lakehouse Explorer", page_icon=FAVICON, layout="wide",
                   initial_sidebar_state=250)  # narrower (and still hidden on small screens): room for a 900 px window's controls

context = init_app()

pages: dict[str, list] = {"": [st.Page(HOME.path, title=HOME.title, icon=HOME.icon, url_path=HOME.url_path, default=True)]}
for view in views_for(context.grants):
    pages.setdefault(view.section, []).append(st.Page(view.path, title=view.title, icon=view.icon, url_path=view.url_path))


def not_allowed_page(view: View):
    """A hidden page at a view's address that says why the role may not use it (Streamlit would say "Page not found")."""
    def not_allowed() -> None:
        st.title(view.title)
        st.info(not_allowed_reason(view, context.grants), icon=":material/lock:")
    return st.Page(not_allowed, title=view.title, icon=view.icon, url_path=view.url_path, visibility="hidden")


pages[""].extend(not_allowed_page(view) for view in views_not_for(context.grants))
page = st.navigation(pages, position="hidden" if context.embed else "sidebar")
st.set_page_config(page_icon=FAVICON)  # after navigation, which would set each page's own icon as the favicon
page.run()
