"""losscli — choose a loss function, and measure every applicable loss on your files.

The Python API (the command line is a thin shell over it)::

    import losscli
    report = losscli.evaluate("preds.csv", "targets.csv")      # every applicable loss
    report.values["mse"]
    losscli.compare(["a.csv", "b.csv"], "targets.csv", bootstrap=1000).data
    losscli.recommend("segmentation", ["imbalanced"])          # SPEC §3.3 document
    spec = losscli.get_loss("huber", "regression")           # the registry entry
    from losscli.compute import compute                       # one loss on arrays
    compute(spec, pred, target, params={"delta": 2.0}).value
    losscli.list_losses(task="binary")

Names are imported lazily so ``import losscli`` stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "ExitCode",
    "__version__",
    "compare",
    "describe_loss",
    "evaluate",
    "get_loss",
    "list_losses",
    "recommend",
]

_LAZY = {
    "evaluate": ("losscli.api", "evaluate"),
    "compare": ("losscli.comparison", "compare"),
    "recommend": ("losscli.rules", "recommend"),
    "get_loss": ("losscli.registry", "get_spec"),
    "list_losses": ("losscli.catalogue", "list_losses"),
    "describe_loss": ("losscli.catalogue", "describe_loss"),
    "ExitCode": ("losscli.errors", "ExitCode"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'losscli' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value
