"""losscli — choose a loss function, and measure every applicable loss on your files."""

from __future__ import annotations

__version__ = "0.1.0"
