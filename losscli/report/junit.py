"""Gates as a JUnit XML report (``-o gates.xml``), the format CI systems show as tests.

One ``<testsuite name="losscli" tests failures errors>``; one ``<testcase>`` per gate,
named ``<loss> <op> <limit>[ <model>]`` (:func:`losscli.gates.gate_name`), with a
``<failure>`` when the gate failed and an ``<error>`` when it could not be evaluated
(no finite value, params that differ from the baseline's, …). No gates: an empty suite.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from losscli.gates import describe_failure, gate_name, gate_state, value_text

#: Characters XML 1.0 cannot hold, even as a reference (C0 controls but tab, LF, CR;
#: surrogates; U+FFFE/U+FFFF): a parser refuses the whole report for one of them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    """``text`` with the characters XML cannot hold shown as ``\\xNN``/``\\uNNNN``."""
    return _NOT_XML.sub(
        lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text
    )


def render(doc: Mapping[str, Any]) -> str:
    """The JUnit XML text of a result document's ``gates``."""
    gates = list(doc.get("gates") or [])
    states = [gate_state(g) for g in gates]
    suite = ET.Element(
        "testsuite",
        {
            "name": "losscli",
            "tests": str(len(gates)),
            "failures": str(states.count("failed")),
            "errors": str(states.count("error")),
            "skipped": "0",
        },
    )
    classname = f"losscli.{doc.get('command', 'run')}"
    for g, state in zip(gates, states):
        case = ET.SubElement(suite, "testcase", {"classname": classname, "name": gate_name(g)})
        if state == "failed":
            node = ET.SubElement(
                case, "failure", {"message": describe_failure(g), "type": "GateFailed"}
            )
            node.text = f"{gate_name(g)}: {value_text(g)}"
        elif state == "error":
            node = ET.SubElement(
                case, "error", {"message": describe_failure(g), "type": "GateNotEvaluated"}
            )
            node.text = str(g.get("error") or "no finite value")
        else:
            out = ET.SubElement(case, "system-out")
            out.text = f"{gate_name(g)}: {value_text(g)}"
    ET.indent(suite)
    text = _xml_safe(ET.tostring(suite, "unicode"))
    return '<?xml version="1.0" encoding="utf-8"?>\n' + text + "\n"
