"""DAIVI Lakehouse Explorer: the entry point (page config, sign-in, navigation, shared sidebar)."""

import streamlit as st

from daivi_ui.context import init_app
from daivi_ui.navigation import HOME, views_for

# A narrower sidebar (250 px, still hidden on small screens) leaves a 900 px window room for the controls.
st.set_page_config(page_title="DAIVI Lakehouse Explorer", page_icon=":material/database:", layout="wide",
                   initial_sidebar_state=250)

context = init_app()

pages: dict[str, list] = {"": [st.Page(HOME.path, title=HOME.title, icon=HOME.icon, url_path=HOME.url_path, default=True)]}
for view in views_for(context.grants):
    pages.setdefault(view.section, []).append(st.Page(view.path, title=view.title, icon=view.icon, url_path=view.url_path))

page = st.navigation(pages, position="hidden" if context.embed else "sidebar")
page.run()
