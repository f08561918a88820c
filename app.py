"""The Neural Network Playground: `streamlit run app.py`.

Pages stay thin: widgets and layout here, all the work in the `playground` engine.
"""

import streamlit as st

from ui.state import init_state, save_state

st.set_page_config(page_title="Neural Network Playground", page_icon="🧠", layout="wide")
init_state()
# Streamlit's default top padding (6rem) pushes the Train page's live charts below a laptop's
# screen; a fixed style string of ours, no user text.
st.markdown(
    "<style>[data-testid='stMainBlockContainer']{padding-top:2.5rem}</style>",
    unsafe_allow_html=True,
)

pages = [
    st.Page("pages/data.py", title="Data", icon=":material/dataset:", default=True),
    st.Page("pages/build.py", title="Build", icon=":material/construction:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/runs.py", title="Runs", icon=":material/history:"),
    st.Page("pages/inspect.py", title="Inspect", icon=":material/biotech:"),
    st.Page("pages/explain.py", title="Explain", icon=":material/lightbulb:"),
    st.Page("pages/fairness.py", title="Fairness", icon=":material/balance:"),
]
try:
    st.navigation(pages).run()
finally:
    # Also after st.stop() or an error on the page: a reload comes back to these choices.
    save_state()
