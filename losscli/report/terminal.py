"""Text for a terminal: the one rule for anything from the data or the command line
(class names, ids, file names, model names, rules text, error messages) that reaches
stdout's table view or stderr's notes, warnings and errors.

Control characters would be obeyed by the terminal, not shown: ``\\x1b[2K\\x1b[1A``
erases and rewrites lines, ``\\r`` overwrites, ``\\x07`` rings. :func:`terminal_text`
shows each one as a visible escape (``\\x1b``) instead; text without them is unchanged.
"""

from __future__ import annotations

import re
from typing import Any

#: C0 controls but tab and newline, DEL, C1 controls (``\x9b`` is a one-byte CSI), and
#: the Unicode bidirectional overrides and isolates (text that reads differently than
#: it is).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_text(text: object) -> str:
    """``text`` with every control character shown as ``\\xNN`` (``\\uNNNN`` for the
    bidirectional controls), so that it prints as it is and moves no cursor."""
    return _CONTROL.sub(_visible, str(text))


def terminal_doc(obj: Any) -> Any:
    """``obj`` (a result document) with :func:`terminal_text` applied to every string in
    it, keys included: for views that print many of its fields (recommend's screen)."""
    if isinstance(obj, str):
        return terminal_text(obj)
    if isinstance(obj, dict):
        return {terminal_doc(k): terminal_doc(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(terminal_doc(v) for v in obj)
    return obj
