"""The Neural Network Playground engine: datasets, model specs, training and the run store.

Nothing in this package imports streamlit: it is usable from a notebook, the CLI and tests.
"""

__version__ = "0.1.0"
