"""``--combine NAME=LOSS:W,LOSS:W``: a weighted composite reported like a loss (SPEC §13).

A composite is a :class:`~losscli.registry.LossSpec` whose kernel sums its terms' per-row
values, Σ_t W_t·l_t,i, so that its value is Σ_t W_t·v_t and it gets gates, worst rows,
``--per-sample``, bootstrap intervals and reports like any loss. Its gradient is
Σ_t W_t·g_t (when every term has one). Terms must weigh rows alike (no class weights or
ignored rows: Σ W·v would no longer be one weighted mean) and must be means of per-row
terms (not rmse): a usage error says so.

:func:`describe_terms` adds each term's share of the value, W_t·v_t / Σ_s W_s·v_s, and
with ``--grad`` of the gradient, ‖W_t·g_t‖₁ / Σ_s ‖W_s·g_s‖₁, to the composite's entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from losscli.errors import UsageError
from losscli.gradients import grad_function, grad_params, weighs_rows
from losscli.losses._reduce import Terms
from losscli.registry import LossSpec, normalise_name, resolve_params


@dataclass(frozen=True)
class Combination:
    """A parsed ``--combine``: the composite's name and its (loss, weight) terms."""

    name: str
    terms: tuple[tuple[str, float], ...]

    @property
    def text(self) -> str:
        return " + ".join(f"{w:g}·{loss}" for loss, w in self.terms)


def parse_combine(text: str) -> Combination:
    """``NAME=LOSS:W,LOSS:W`` → :class:`Combination` (W defaults to 1)."""
    name, sep, body = text.partition("=")
    hint = "write NAME=LOSS:W,LOSS:W, e.g. --combine total=bce:1,dice:0.5"
    if not sep or not name.strip() or not body.strip():
        raise UsageError(f"cannot read --combine '{text}'", hint=hint)
    terms: list[tuple[str, float]] = []
    for part in body.split(","):
        loss, colon, w = part.strip().partition(":")
        try:
            weight = float(w) if colon else 1.0
        except ValueError:
            raise UsageError(
                f"cannot read --combine '{text}': weight '{w}' of {loss} is not a number",
                hint=hint,
            ) from None
        if not loss.strip() or weight != weight:
            raise UsageError(f"cannot read --combine '{text}'", hint=hint)
        terms.append((normalise_name(loss), weight))
    return Combination(normalise_name(name), tuple(terms))


def composite_spec(
    combo: Combination,
    specs: Sequence[LossSpec],
    params: Mapping[str, Mapping[str, Any]],
    task: str,
) -> LossSpec:
    """The composite's spec over the term specs ``specs`` (one per term, in order) with
    their ``params``."""
    for spec in specs:
        if spec.finalize is not None:
            raise UsageError(
                f"--combine {combo.name}: {spec.name} is not a mean of per-row terms",
                hint="combine mse instead of rmse"
                if spec.finalize == "sqrt"
                else f"report {spec.name} beside the composite (--loss {spec.name})",
            )
    weights = [w for _, w in combo.terms]
    resolved = [resolve_params(s, dict(params.get(s.name, {}))) for s in specs]
    context = tuple(dict.fromkeys(c for s in specs for c in s.context))
    domains = tuple(dict.fromkeys(d for s in specs for d in s.domains))
    needs = next((s.needs for s in specs if s.needs is not None), None)
    spec = LossSpec(
        name=combo.name,
        tasks=(task,),
        fn=f"composite:{combo.name}",
        summary=f"composite {combo.text}",
        formula=combo.text,
        when_to_use="",
        references=(),
        inputs="as its terms",
        context=context,
        domains=domains,
        needs=needs,
        decomposable=all(s.decomposable for s in specs),
    )
    spec._fn_cache["fn"] = _Kernel(combo, tuple(specs), tuple(weights), tuple(resolved))
    grads = [grad_function(s) for s in specs]
    mixing = [s.name for s, g in zip(specs, grads) if g is not None and weighs_rows(g)]
    if mixing:
        spec._fn_cache["no_grad"] = f"term {', '.join(mixing)} mixes rows (pairs, triplets)"
    elif all(g is not None for g in grads):
        spec._fn_cache["grad"] = _Grad(tuple(specs), tuple(weights), tuple(resolved))
    else:
        missing = [s.name for s, g in zip(specs, grads) if g is None]
        spec._fn_cache["no_grad"] = f"term {', '.join(missing)} has no gradient"
    return spec


def _call(spec: LossSpec, fn: Callable[..., Any], pred: Any, target: Any, params: Any, kw: Any):
    ctx = {k: v for k, v in kw.items() if k in spec.context}
    if target is None:
        return fn(pred, **params, **ctx)
    return fn(pred, target, **params, **ctx)


@dataclass(frozen=True)
class _Kernel:
    """The composite's kernel: Σ_t W_t·(row value of term t). A class, not a closure, so
    a run pickles to the workers of ``--engine dask``."""

    combo: Combination
    specs: tuple[LossSpec, ...]
    weights: tuple[float, ...]
    params: tuple[Mapping[str, Any], ...]

    def __call__(self, pred: Any, target: Any = None, **kw: Any) -> Terms:
        total: np.ndarray | None = None
        notes: list[str] = []
        for spec, w, p in zip(self.specs, self.weights, self.params):
            t = _call(spec, spec.kernel(), pred, target, p, kw)
            if t.weight is not None and not bool(np.all(t.weight == 1)):
                raise UsageError(
                    f"--combine {self.combo.name}: {spec.name} weighs rows (class weights or "
                    "ignored rows), so the composite would not be one weighted mean",
                    hint=f"combine {spec.name} without weight/ignore_index, or report the "
                    "terms side by side",
                )
            row = t.per_row() * w
            total = row if total is None else total + row
            notes += [f"{spec.name}: {n}" for n in t.notes]
        assert total is not None
        return Terms(total, notes=list(dict.fromkeys(notes)))


@dataclass(frozen=True)
class _Grad:
    """The composite's gradient kernel: Σ_t W_t·g_t."""

    specs: tuple[LossSpec, ...]
    weights: tuple[float, ...]
    params: tuple[Mapping[str, Any], ...]

    def __call__(self, pred: Any, target: Any = None, **kw: Any) -> np.ndarray:
        total = None
        for spec, w, p in zip(self.specs, self.weights, self.params):
            g = grad_function(spec)
            assert g is not None
            p, missing = grad_params(g, spec, p)
            if missing is not None:
                raise ValueError(missing)  # reported as "no gradient" for the composite
            d = np.asarray(_call(spec, g, pred, target, p, kw), dtype=np.float64) * w
            total = d if total is None else total + d
        return total  # type: ignore[return-value]


def describe_terms(items: list[dict[str, Any]], combos: Sequence[Combination]) -> None:
    """Add ``terms`` to each composite's loss entry: per term its loss, weight, value,
    ``share`` of the value and, with ``grad``, ``grad_share`` of the gradient."""
    by_name = {it["name"]: it for it in items}
    for combo in combos:
        item = by_name.get(combo.name)
        if item is None:
            continue
        rows = []
        for loss, w in combo.terms:
            term = by_name.get(loss, {})
            rows.append({"loss": loss, "weight": w, "value": term.get("value")})
        _shares(rows, item.get("value"), [by_name.get(r["loss"], {}) for r in rows])
        item["terms"] = rows


def describe_terms_by_model(
    entries: list[dict[str, Any]], combos: Sequence[Combination], models: Sequence[str]
) -> None:
    """:func:`describe_terms` for a compare document: each term's ``values``, ``share``
    and ``grad_share`` by model."""
    by_name = {e["name"]: e for e in entries}
    for combo in combos:
        entry = by_name.get(combo.name)
        if entry is None:
            continue
        rows = [
            {"loss": loss, "weight": w, "values": dict(by_name.get(loss, {}).get("values", {}))}
            for loss, w in combo.terms
        ]
        for r in rows:
            r["share"], r["grad_share"] = {}, {}
        for m in models:
            per = [
                {"loss": r["loss"], "weight": r["weight"], "value": r["values"].get(m)}
                for r in rows
            ]
            terms = [
                {"grad": (by_name.get(r["loss"], {}).get("grad") or {}).get(m)}
                if "grad" in by_name.get(r["loss"], {})
                else {}
                for r in rows
            ]
            _shares(per, entry["values"].get(m), terms)
            for r, p in zip(rows, per):
                r["share"][m] = p["share"]
                if "grad_share" in p:
                    r["grad_share"][m] = p["grad_share"]
        for r in rows:
            if not r["grad_share"]:
                del r["grad_share"]
        entry["terms"] = rows


def _shares(rows: list[dict[str, Any]], total: Any, terms: list[dict[str, Any]]) -> None:
    for r in rows:
        v = r["value"]
        r["share"] = (r["weight"] * v / total) if v is not None and total else None
    grads = [(t.get("grad") or {}).get("mean_abs") for t in terms]
    if any("grad" in t for t in terms):
        mass = [None if g is None else abs(r["weight"]) * g for r, g in zip(rows, grads)]
        whole = sum(m for m in mass if m is not None) if None not in mass else None
        for r, m in zip(rows, mass):
            r["grad_share"] = m / whole if whole and m is not None else None


__all__ = [
    "Combination",
    "composite_spec",
    "describe_terms",
    "describe_terms_by_model",
    "parse_combine",
]
