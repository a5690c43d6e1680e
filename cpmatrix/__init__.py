"""cpmatrix: build CPython variants across a matrix and prove what was built."""

__version__ = "0.1.0"
