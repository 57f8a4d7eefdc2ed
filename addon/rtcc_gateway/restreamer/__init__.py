"""Restream backends: how a share's token becomes a stream the door can serve."""
