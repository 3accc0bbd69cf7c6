"""JSON Schemas (draft 2020-12) of the JSON outputs, kept as data files in
``losscli/schemas/`` (``losscli schema NAME`` prints one).

Each schema requires the stable fields of SPEC §3 and §11 and allows additional
properties everywhere, so fields added later keep old consumers valid; each is a
``oneOf`` of the result document and the error document (``"ok": false``).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from losscli.errors import unknown_name

#: Commands whose JSON output has a schema.
SCHEMAS: tuple[str, ...] = ("evaluate", "compare", "recommend", "curves")


def schema_text(name: str) -> str:
    """The schema of ``name``'s JSON output, as shipped (JSON text)."""
    if name not in SCHEMAS:
        raise unknown_name("schema", name, SCHEMAS)
    return resources.files("losscli").joinpath("schemas", f"{name}.json").read_text("utf-8")


def load_schema(name: str) -> dict[str, Any]:
    """The schema of ``name``'s JSON output, parsed."""
    return json.loads(schema_text(name))
