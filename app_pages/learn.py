"""Learn page: the first page a visitor sees. Each lesson asks a question, trains the runs
that answer it (in the job registry's workers, never here), and shows the answer computed from
those runs' numbers. `?lesson=<id>` opens one lesson: a link to share."""

from __future__ import annotations

import streamlit as st

from playground.lessons import LESSONS
from ui.learn_view import lesson_list, lesson_view
from ui.next_step import next_step

st.title("Learn")
lesson_id = st.query_params.get("lesson")
if lesson_id in LESSONS:
    lesson_view(LESSONS[lesson_id])
else:
    if lesson_id:
        st.warning("There is no such lesson; here are all of them.")
        del st.query_params["lesson"]
    st.markdown(
        "Each lesson asks one question about neural networks and answers it with a few small "
        "training runs: open one, press **Run this lesson**, and read the answer in the charts "
        "and numbers it produces. Or start your own: pick data on the Data page."
    )
    lesson_list()
next_step("learn")
