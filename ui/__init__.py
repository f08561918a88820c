"""Streamlit glue shared by the pages: session state, cached engine objects, widgets.

Only this package and `app_pages/` import streamlit; the engine (`playground/`) never does.
"""
