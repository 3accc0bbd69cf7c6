"""YAML documents read with bounds: size, nesting depth and alias expansion.

``--config`` and ``--rules`` files are parsed by PyYAML's safe loader (its C
implementation when PyYAML was built with libyaml): no Python tags, no objects. On top of
that, three limits keep a hostile or broken file from taking the machine (docs/security.md):

* the file's size (:data:`MAX_CONFIG_BYTES`, :data:`MAX_RULES_BYTES`; raised with the
  environment variables ``LOSSCLI_MAX_CONFIG_BYTES`` / ``LOSSCLI_MAX_RULES_BYTES``);
* the nesting depth of the document (:data:`MAX_DEPTH`): a few thousand nested ``[``
  would otherwise end in a RecursionError;
* the number of nodes the document holds once every alias is expanded
  (:data:`MAX_NODES`): a one-kilobyte "billion laughs" file of nested anchors and
  aliases names 10⁹ values, and walking them takes minutes and gigabytes.

The document is composed into a node graph first (aliases share their node), measured
there with a memoised walk in time linear in the file, and constructed only when it fits.
"""

from __future__ import annotations

import os
from typing import Any

from losscli.errors import ConfigError

#: Largest ``--config`` file read (bytes); ``LOSSCLI_MAX_CONFIG_BYTES`` raises it.
MAX_CONFIG_BYTES = 1 << 20
#: Largest ``--rules`` file read (bytes); ``LOSSCLI_MAX_RULES_BYTES`` raises it.
MAX_RULES_BYTES = 10 << 20
#: Deepest nesting of mappings and sequences accepted.
MAX_DEPTH = 64
#: Most values a document may hold with every alias expanded (a ``--rules`` file; a
#: ``--config`` file gets :data:`MAX_CONFIG_NODES`).
MAX_NODES = 1_000_000
MAX_CONFIG_NODES = 100_000

#: Longest excerpt of a value shown in an error message.
SHOWN_CHARS = 60


def limit_from_env(var: str, default: int) -> int:
    """``default``, or the positive integer in environment variable ``var``."""
    raw = os.environ.get(var, "").strip()
    if not raw:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(
            f"{var} must be a positive integer, got {shown(raw)}",
            hint=f"unset it to use the default ({default})",
        )
    return value


def shown(value: Any, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters, without building a huge string
    first (containers are summarised by their length)."""
    if isinstance(value, (dict, list, tuple, set)):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"… ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def read_bounded(path: str, *, what: str, max_bytes: int, env: str, flag: str) -> str:
    """The text of a YAML file of at most ``max_bytes`` bytes (UTF-8, BOM allowed).

    ``what`` names the file in messages (``config file``), ``env`` the variable that
    raises the limit, ``flag`` the option that passed the file.
    """
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise ConfigError(f"{what} '{path}' does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} '{path}': {exc.strerror}") from None
    if size > max_bytes:
        raise ConfigError(
            f"{what} '{path}' is {_mib(size)}, larger than the {_mib(max_bytes)} limit for {flag}",
            hint=f"a {flag} file holds settings, not data; to read a larger one anyway, set "
            f"{env}={size}",
        )
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:  # grew since stat
            raise ConfigError(f"{what} '{path}' is larger than the {_mib(max_bytes)} limit")
        return data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} '{path}': {exc}") from None


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n} bytes"


def load(text: str, display: str, *, max_nodes: int = MAX_NODES) -> Any:
    """The one YAML document of ``text``, safely constructed within the limits.

    Raises a ConfigError naming ``display`` (and the line) for invalid YAML, too deep a
    nesting or too many expanded nodes.
    """
    import yaml

    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_cls(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise _too_deep(display, None) from None
        if node is None:
            return None
        _check_node(node, display, max_nodes)
        return loader.construct_document(node)
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise _too_deep(display, None) from None
    finally:
        loader.dispose()


def _too_deep(display: str, line: int | None) -> ConfigError:
    where = f" at line {line}" if line is not None else ""
    return ConfigError(
        f"{display}: nesting deeper than {MAX_DEPTH} levels{where}",
        hint="settings files nest a few levels; check for unclosed brackets",
    )


def _check_node(root: Any, display: str, max_nodes: int) -> None:
    """Refuse a node graph nested deeper than MAX_DEPTH or holding more than ``max_nodes``
    nodes with aliases expanded (shared nodes counted once per reference)."""
    import yaml

    sizes: dict[int, int] = {}
    # iterative post-order walk: (node, depth, children done)
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    on_path: set[int] = set()
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1 + sum(sizes[id(c)] for c in _children(node, yaml))
            if total > max_nodes:
                raise ConfigError(
                    f"{display}: the document expands to more than {max_nodes:,} values "
                    f"(anchors and aliases at line {node.start_mark.line + 1})",
                    hint="aliases (*name) that repeat other aliases multiply; write the "
                    "values out or use fewer levels of aliases",
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:  # a recursive alias: the safe constructor cannot build it
            raise ConfigError(
                f"{display}: an alias refers to its own anchor (line {node.start_mark.line + 1})",
                hint="remove the recursive alias",
            )
        if depth > MAX_DEPTH:
            raise _too_deep(display, node.start_mark.line + 1)
        on_path.add(key)
        _check_unique_keys(node, display, yaml)
        stack.append((node, depth, True))
        for child in _children(node, yaml):
            if id(child) not in sizes:
                stack.append((child, depth + 1, False))


def _check_unique_keys(node: Any, display: str, yaml: Any) -> None:
    """Refuse a mapping that gives one key twice: YAML loaders keep the last silently, so
    ``gates: {max: …}`` written twice would drop the first set of gates."""
    if not isinstance(node, yaml.MappingNode):
        return
    seen: dict[str, int] = {}
    for k, _ in node.value:
        if not isinstance(k, yaml.ScalarNode) or k.tag == "tag:yaml.org,2002:merge":
            continue
        line = k.start_mark.line + 1
        if k.value in seen:
            raise ConfigError(
                f"{display}: key {shown(k.value)!s} appears twice in one mapping "
                f"(lines {seen[k.value]} and {line})",
                hint="the second would silently replace the first; keep one of them",
            )
        seen[k.value] = line


def _children(node: Any, yaml: Any) -> list[Any]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []
