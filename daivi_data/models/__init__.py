"""Page models: what each view computes, Streamlit-free (a request -> the queries -> result dataclasses)."""
