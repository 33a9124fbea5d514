"""Pure estimators: memory, fit and speed. No I/O, no hardware probing (see DESIGN.md)."""

from hwbench.estimate.fit import estimate_fit

__all__ = ["estimate_fit"]
