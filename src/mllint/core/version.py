"""The version of mllint (read by the build backend and the reports)."""

__version__ = "0.1.0"
