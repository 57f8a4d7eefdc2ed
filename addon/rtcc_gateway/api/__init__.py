"""The gateway's two HTTP APIs: the city's (public listener) and the owner's (owner listener)."""
