"""Page models: one pure, Streamlit-free module per view (request -> queries -> results)."""
