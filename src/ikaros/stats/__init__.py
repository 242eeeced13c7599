"""Survival statistics: one module per method family."""
