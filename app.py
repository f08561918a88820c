"""The Neural Network Playground: `streamlit run app.py`.

Pages stay thin: widgets and layout here, all the work in the `playground` engine. They live
in `app_pages/`, not `pages/`: a folder named `pages` puts Streamlit in its old multipage mode
for a fresh server's first request, which then runs a deep-linked page without this script
(and without the session it sets up).
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
    st.Page("app_pages/learn.py", title="Learn", icon=":material/school:", default=True),
    st.Page("app_pages/data.py", title="Data", icon=":material/dataset:"),
    st.Page("app_pages/build.py", title="Build", icon=":material/construction:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/ensembles.py", title="Ensembles & CV", icon=":material/stacks:"),
    st.Page("app_pages/sweep.py", title="Sweep", icon=":material/tune:"),
    st.Page("app_pages/runs.py", title="Runs", icon=":material/history:"),
    st.Page("app_pages/inspect.py", title="Inspect", icon=":material/biotech:"),
    st.Page("app_pages/explain.py", title="Explain", icon=":material/lightbulb:"),
    st.Page("app_pages/fairness.py", title="Fairness", icon=":material/balance:"),
    st.Page("app_pages/compress.py", title="Compress", icon=":material/compress:"),
    st.Page("app_pages/generative.py", title="Generative", icon=":material/auto_awesome:"),
]
try:
    st.navigation(pages).run()
finally:
    # Also after st.stop() or an error on the page: a reload comes back to these choices.
    save_state()
