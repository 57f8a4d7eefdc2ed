"""`scripts/demo`: the whole story on this machine (see __main__.py and inner.py)."""
