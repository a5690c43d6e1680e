"""The Docker engine: containers and the images cpmatrix builds (below builders and verify)."""
