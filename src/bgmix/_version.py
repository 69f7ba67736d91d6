"""The package version, in a leaf module so subpackages can read it without importing
the top-level package."""

__version__ = "0.1.0"
