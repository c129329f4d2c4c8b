"""The package version, in a leaf module: anything may import it without importing the package's
``__init__`` (which would make every inner module depend on the public API's namespace)."""

__version__ = "0.1.0"
