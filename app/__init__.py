"""newsfacts: the structured facts of news articles, each traceable to the words of its source."""

import os

# numpy's OpenBLAS starts a thread per core when imported; the API does no linear algebra, and those
# threads would only compete with the event loop for the core it runs on.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
