"""Page models: one pure, Streamlit-free model per view (request -> queries -> result dataclasses)."""
