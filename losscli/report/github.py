"""GitHub Actions: workflow-command annotations for failed gates and the job summary.

Only with ``GITHUB_ACTIONS=true`` (SPEC §11): one ``::error title=losscli gate::<loss>
<op> <limit>: <value>`` line per failed gate, on stderr (the runner reads both streams;
stdout stays the chosen format), and the Markdown view appended to the file named by
``$GITHUB_STEP_SUMMARY`` whenever gates ran. Nothing GitHub-specific happens otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

from losscli.gates import gate_name, gate_state, value_text
from losscli.report.terminal import terminal_text

TITLE = "losscli gate"


def escape_data(text: str) -> str:
    """The message of a workflow command: ``%``, CR and LF escaped; other control
    characters (an ESC from a file name would colour the log) shown as ``\\xNN``."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return terminal_text(text)


def escape_property(text: str) -> str:
    """A property value of a workflow command: as data, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotations(doc: Mapping[str, Any]) -> list[str]:
    """One ``::error`` line per failed (or not evaluated) gate."""
    return [
        f"::error title={escape_property(TITLE)}::{escape_data(f'{gate_name(g)}: {value_text(g)}')}"
        for g in doc.get("gates") or []
        if gate_state(g) != "passed"
    ]


def active(environ: Mapping[str, str]) -> bool:
    """Whether this run is a GitHub Actions step."""
    return environ.get("GITHUB_ACTIONS", "").lower() == "true"


def report(doc: Mapping[str, Any], environ: Mapping[str, str], stderr: TextIO) -> None:
    """Annotations on ``stderr`` and the job summary, when ``environ`` says this is a
    GitHub Actions step; the summary is appended (never overwritten) only when gates ran.
    A summary that cannot be written is a note on ``stderr``, not an error: the results
    and the gates' verdict stand."""
    if not active(environ):
        return
    for line in annotations(doc):
        stderr.write(line + "\n")
    stderr.flush()
    path = environ.get("GITHUB_STEP_SUMMARY")
    if path and doc.get("gates"):
        from losscli.report.markdown import render

        try:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(render(dict(doc)) + "\n")
        except OSError as exc:  # the results are out already: say so, keep the exit code
            stderr.write(f"note: cannot append to GITHUB_STEP_SUMMARY '{path}': {exc}\n")
