"""Strict JSON (RFC 8259): no NaN/Infinity, full precision."""

from __future__ import annotations

import json
import math
from typing import Any


def sanitize(obj: Any) -> Any:
    """Replace non-finite floats by None, tuples by lists, NumPy scalars by Python ones."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): sanitize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [sanitize(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:
        return sanitize(obj.item())
    if hasattr(obj, "tolist"):
        return sanitize(obj.tolist())
    return obj


def dumps(doc: dict[str, Any], *, indent: int | None = 2) -> str:
    """Serialize a result document; raises if anything non-finite slipped through."""
    return json.dumps(sanitize(doc), indent=indent, allow_nan=False, ensure_ascii=False) + "\n"
