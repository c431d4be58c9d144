"""Adapters: one module per outside thing, the only place its library is imported."""
