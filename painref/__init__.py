"""painref: a terminal reference on interventional pain management (educational, not medical advice)."""

__version__ = "0.1.0"
