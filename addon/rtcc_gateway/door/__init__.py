"""How bytes get out: the city's only way to video is through these listeners."""
