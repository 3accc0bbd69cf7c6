"""Your own losses: ``--plugin [NAME=]module:function`` and the entry-point group
``losscli.losses`` (the entry-point name is the loss name), SPEC §13.

A plugin is ``f(pred, target)``: it gets float64 arrays of shape ``(n,)`` or ``(n, k)`` —
one chunk at a time when the input streams — and returns ``(n,)`` per-row losses. It
becomes a :class:`~losscli.registry.LossSpec` whose kernel wraps ``f``, so it gets the
whole machinery (gates, worst rows, per-sample, bootstrap, composites, reports).

Only code the user names is imported, and only when its loss is used: listing the
catalogue reads entry-point names, never their modules. An import or lookup failure is
a usage error (exit 2); ``f`` raising or returning the wrong shape is a
:class:`~losscli.errors.PluginFailure` (exit 3); both name ``NAME (module:function)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from losscli.errors import PluginFailure, UsageError
from losscli.registry import TASKS, LossSpec, normalise_name

#: The entry-point group of installed loss plugins.
GROUP = "losscli.losses"
#: Functions loaded in this process, by ``module:function``.
_LOADED: dict[str, Callable[..., Any]] = {}


@dataclass(frozen=True)
class Plugin:
    """A named user loss: ``name`` and where its function lives (``module:function``)."""

    name: str
    target: str
    source: str = "--plugin"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.target})"


def parse_plugin(text: str) -> Plugin:
    """``[NAME=]module:function`` → :class:`Plugin` (NAME defaults to the function's
    name); a malformed value is a usage error."""
    name, sep, target = text.strip().partition("=")
    if not sep:
        name, target = "", name
    module, colon, attr = target.strip().partition(":")
    if not colon or not module.strip() or not attr.strip():
        raise UsageError(
            f"cannot read --plugin '{text}'",
            hint="write [NAME=]module:function, e.g. --plugin my_loss=mypkg.losses:my_loss",
        )
    target = f"{module.strip()}:{attr.strip()}"
    return Plugin(normalise_name(name or attr.strip().rsplit(".", 1)[-1]), target)


def entry_points() -> list[Plugin]:
    """The installed plugins of the ``losscli.losses`` group (names only; nothing is
    imported)."""
    from importlib.metadata import entry_points as eps

    return [Plugin(normalise_name(ep.name), ep.value, "entry point") for ep in eps(group=GROUP)]


def find_entry_point(name: str) -> Plugin | None:
    """The installed plugin called ``name``, or None."""
    key = normalise_name(name)
    return next((p for p in entry_points() if p.name == key), None)


def load(plugin: Plugin) -> Callable[..., Any]:
    """Import the plugin's module and return its function (usage error on failure)."""
    module, _, attr = plugin.target.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except Exception as exc:  # any failure of the user's import is reported, not raised
        raise UsageError(
            f"cannot load plugin {plugin.label}: {type(exc).__name__}: {exc}",
            hint="check the module is importable (pip install it, or set PYTHONPATH) and "
            "names the function",
        ) from None
    if not callable(obj):
        raise UsageError(
            f"plugin {plugin.label} is not a function", hint="name a function f(pred, target)"
        )
    return obj


def plugin_spec(plugin: Plugin) -> LossSpec:
    """A :class:`LossSpec` (every task) whose kernel calls the plugin; its module is
    imported here."""
    fn = load(plugin)
    spec = LossSpec(
        name=plugin.name,
        tasks=TASKS,
        fn=f"plugin:{plugin.target}",
        summary=f"your loss {plugin.target} ({plugin.source})",
        formula=f"{plugin.target}(pred, target), mean over rows",
        when_to_use="",
        references=(),
        inputs="float64 (n,) or (n, k) predictions and targets",
    )
    _LOADED[plugin.target] = fn
    spec._fn_cache["fn"] = _Kernel(plugin)
    spec._fn_cache["no_grad"] = "a plugin gives per-row losses only, no gradient"
    return spec


@dataclass(frozen=True)
class _Kernel:
    """A plugin's loss kernel: calls ``f(pred, target)`` and checks its answer. A class,
    not a closure, so a run pickles to the workers of ``--engine dask`` (which import the
    plugin's module again, by name)."""

    plugin: Plugin

    def __call__(self, pred: Any, target: Any = None) -> Any:
        import numpy as np

        from losscli.losses._reduce import Terms

        fn = _LOADED.get(self.plugin.target) or load(self.plugin)
        # read-only views: every other loss reads the same arrays, so a plugin that
        # changed them in place would change their values too
        p = _read_only(np.asarray(pred, dtype=np.float64))
        t = None if target is None else _read_only(np.asarray(target, dtype=np.float64))
        try:
            out = fn(p, t)
        except Exception as exc:  # the user's code: any failure is reported by name
            raise PluginFailure(
                f"plugin {self.plugin.label} raised {type(exc).__name__}: {exc}",
                hint="fix the function, or leave the loss out",
            ) from None
        arr = np.asarray(out, dtype=np.float64) if out is not None else None
        n = p.shape[0]
        if arr is None or arr.shape != (n,):
            got = "None" if arr is None else f"shape {arr.shape}"
            raise PluginFailure(
                f"plugin {self.plugin.label} returned {got}; expected ({n},) per-row losses",
                hint="return one loss per row, e.g. ((pred - target) ** 2).mean(axis=-1)",
            )
        return Terms(arr)


def _read_only(a: Any) -> Any:
    view = a.view()
    view.flags.writeable = False
    return view


__all__ = [
    "GROUP",
    "Plugin",
    "entry_points",
    "find_entry_point",
    "load",
    "parse_plugin",
    "plugin_spec",
]
