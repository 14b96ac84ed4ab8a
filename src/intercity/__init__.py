"""intercity: HSR and information connectivity vs inter-city industrial transfer (a computational paper)."""

__version__ = "0.1.0"
