"""newsfacts: the structured facts of news articles, each traceable to the words of its source."""

__version__ = "0.1.0"
