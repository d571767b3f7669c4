"""DAIVI Lakehouse Explorer: the entry point (page config, sign-in, navigation, shared sidebar)."""

from pathlib import Path

import streamlit as st

from daivi_ui.context import init_app
from daivi_ui.navigation import HOME, views_for

# The favicon is a local file: a `:material/…:` icon makes the browser fetch it from Google's font host,
# and a page must ask no host but this app for anything (intranets, privacy, embedded pages).
FAVICON = str(Path(__file__).parent / "static" / "favicon.png")
st.set_page_config(page_title="DAIVI Lakehouse Explorer", page_icon=FAVICON, layout="wide")

context = init_app()

pages: dict[str, list] = {"": [st.Page(HOME.path, title=HOME.title, icon=HOME.icon, url_path=HOME.url_path, default=True)]}
for view in views_for(context.grants):
    pages.setdefault(view.section, []).append(st.Page(view.path, title=view.title, icon=view.icon, url_path=view.url_path))

page = st.navigation(pages, position="hidden" if context.embed else "sidebar")
st.set_page_config(page_icon=FAVICON)  # after navigation, which would set each page's own icon as the favicon
page.run()
