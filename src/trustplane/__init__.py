"""Trustplane: a governance control plane for MLOps."""

__version__ = "0.1.0"
