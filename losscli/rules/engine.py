"""The selection engine: (task, conditions) → ranked loss choices, add-ons and notes.

Pure: it reads a :class:`~losscli.rules.schema.RuleSet` and returns plain dataclasses;
no I/O, no YAML, no rendering. How a decision is made:

1. A rule **fires** when its task matches (or it names none) and *every* condition it
   lists was given. A rule missing one condition does not fire, however close it is.
2. A fired rule is **superseded** by another fired rule of the same task whose
   conditions are a strict superset of its own: the more specific rule wins
   (``regression-outliers`` supersedes ``regression``). Combinations that need a
   different answer than either part (outliers + interpretable → MAE first) are
   written in the guide as their own, more specific rules, so conflicts are resolved
   in data, with their reason, not in code.
3. The remaining recommending rules are ordered by specificity, then ``priority``, then
   file order; their recommendations come first, then their alternatives. The same
   choice reached by several rules appears once, crediting every rule.
4. A rule with ``prefer: simplest`` (``large_scale``) stably sorts each rule's options
   (recommendation, alternatives) by ``cost`` before step 3, so every concern is
   still answered, each by its cheapest loss, and the top concern's leads.
5. Add-ons of every fired rule stack, each listed once.

Every step that changed the order is explained in ``notes``; ``trace`` says, for each
rule, whether it fired and why not (``--explain``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from losscli.errors import UsageError, unknown_name
from losscli.rules.schema import CONDITIONS, Addon, Choice, Rule, RuleSet, SourceRef

__all__ = [
    "AMBIGUOUS_TASKS",
    "Candidate",
    "Decision",
    "RuleTrace",
    "decide",
    "normalize_conditions",
    "normalize_task",
]

#: Task words that do not say which variant is meant. ``recommend`` refuses to guess:
#: binary, multiclass and multilabel need different losses and different code.
AMBIGUOUS_TASKS: dict[str, tuple[str, ...]] = {
    "classification": ("binary", "multiclass", "multilabel"),
}


@dataclass(frozen=True)
class Candidate:
    """One ranked choice and the rules that led to it."""

    choice: Choice
    rules: tuple[str, ...]
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True)
class RuleTrace:
    """What one rule did: ``status`` is primary, alternative, add-on, preference,
    superseded or not fired; ``reason`` says why in one sentence."""

    rule: str
    task: str | None
    fired: bool
    status: str
    reason: str
    specificity: int


@dataclass(frozen=True)
class Decision:
    task: str
    conditions: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    addons: tuple[tuple[Addon, tuple[str, ...]], ...]
    notes: tuple[str, ...]
    trace: tuple[RuleTrace, ...]


# --------------------------------------------------------------------------- inputs


def normalize_task(task: str | None) -> str:
    """Validate a task name; refuse ambiguous words with the choices to pick from."""
    from losscli.registry import TASKS

    if task is None or not str(task).strip():
        raise UsageError(
            "recommend needs a task",
            hint="pass --task (" + ", ".join(TASKS) + ") or --from-data TARGETS to infer it",
        )
    key = str(task).strip().lower().replace("-", "_")
    if key in AMBIGUOUS_TASKS:
        options = AMBIGUOUS_TASKS[key]
        raise UsageError(
            f"task '{task}' is ambiguous: the losses differ between "
            + ", ".join(options[:-1])
            + f" and {options[-1]}",
            hint="choose --task binary (one yes/no label), multiclass (one of C classes) "
            "or multilabel (several yes/no labels per sample)",
        )
    if key not in TASKS:
        raise unknown_name("task", str(task), TASKS)
    return key


def normalize_conditions(conditions: Iterable[str]) -> tuple[str, ...]:
    """Accept ``noisy-labels``, ``--noisy-labels`` or ``noisy_labels``; return the
    known flags in their canonical order, each once."""
    if isinstance(conditions, str):  # one flag passed on its own
        conditions = [conditions]
    given: set[str] = set()
    for raw in conditions:
        key = str(raw).strip().lower().lstrip("-").replace("-", "_")
        if key not in CONDITIONS:
            raise unknown_name("condition", str(raw), CONDITIONS)
        given.add(key)
    return tuple(c for c in CONDITIONS if c in given)


# --------------------------------------------------------------------------- engine


def decide(ruleset: RuleSet, task: str | None, conditions: Iterable[str] = ()) -> Decision:
    """Apply ``ruleset`` to ``task`` and ``conditions`` (see the module docstring)."""
    task = normalize_task(task)
    conds = normalize_conditions(conditions)
    given = set(conds)

    fired: list[tuple[int, Rule]] = [
        (i, r)
        for i, r in enumerate(ruleset.rules)
        if (r.when.task is None or r.when.task == task) and given.issuperset(r.when.conditions)
    ]
    recommending = [(i, r) for i, r in fired if r.recommend is not None]
    superseded: dict[str, Rule] = {}
    for _, r in recommending:
        winner = _superseding(r, recommending)
        if winner is not None:
            superseded[r.id] = winner
    active = sorted(
        ((i, r) for i, r in recommending if r.id not in superseded),
        key=lambda ir: (-ir[1].when.specificity, -ir[1].priority, ir[0]),
    )
    if not active:
        raise UsageError(
            f"the guide {ruleset.path} has no rule for task '{task}'",
            hint=f"add a rule with 'when: {{task: {task}}}' and a 'recommend'",
        )

    notes: list[str] = []
    candidates = _collect(active)
    notes.extend(_tie_notes(active))

    preferring = [r for _, r in fired if r.prefer == "simplest"]
    if preferring:
        simplest = _collect(active, simplest=True)
        notes.append(_simplest_note(candidates[0], simplest[0]))
        first = simplest[0]
        simplest[0] = Candidate(first.choice, (*first.rules, preferring[0].id), first.sources)
        candidates = simplest

    addons = _stack_addons(fired, ruleset)
    used = {c for _, r in fired for c in r.when.conditions}
    for c in conds:
        if c not in used:
            notes.append(
                f"No rule in the guide uses '{c}' for {task}; it did not change the advice."
            )
    trace = _trace(ruleset, task, given, fired, superseded, candidates)
    return Decision(task, conds, tuple(candidates), addons, tuple(notes), trace)


def _superseding(rule: Rule, recommending: list[tuple[int, Rule]]) -> Rule | None:
    """The most specific fired rule of the same task whose conditions strictly contain
    ``rule``'s, or None."""
    mine = set(rule.when.conditions)
    best: Rule | None = None
    for _, other in recommending:
        theirs = set(other.when.conditions)
        same_task = other.when.task == rule.when.task
        if same_task and mine < theirs and (best is None or len(theirs) > best.when.specificity):
            best = other
    return best


def _collect(active: list[tuple[int, Rule]], *, simplest: bool = False) -> list[Candidate]:
    """The first option of each active rule in rule order, then the others; one entry
    per distinct choice, crediting every rule that reached it.

    A rule's options are its recommendation then its alternatives, or, with
    ``simplest``, the same options stably sorted by cost: each rule still speaks for
    its own condition, through its cheapest option.
    """
    options: list[list[Choice]] = []
    for _, r in active:
        assert r.recommend is not None
        opts = [r.recommend, *r.alternatives]
        options.append(sorted(opts, key=lambda c: c.cost) if simplest else opts)
    order = [(opts[0], r) for opts, (_, r) in zip(options, active, strict=True)]
    for opts, (_, r) in zip(options, active, strict=True):
        order.extend((alt, r) for alt in opts[1:])
    merged: dict[tuple[object, ...], Candidate] = {}
    for choice, rule in order:
        key = choice.key()
        seen = merged.get(key)
        if seen is None:
            merged[key] = Candidate(choice, (rule.id,), rule.source)
        elif rule.id not in seen.rules:
            sources = seen.sources + tuple(s for s in rule.source if s not in seen.sources)
            merged[key] = Candidate(seen.choice, (*seen.rules, rule.id), sources)
    return list(merged.values())


def _tie_notes(active: list[tuple[int, Rule]]) -> list[str]:
    """Explain how rules of equal specificity that recommend different losses were
    ordered (priority, then file order)."""
    if len(active) < 2:
        return []
    first, second = active[0][1], active[1][1]
    if first.when.specificity != second.when.specificity:
        return []
    assert first.recommend is not None and second.recommend is not None
    if first.recommend.key() == second.recommend.key():
        return []
    n = first.when.specificity
    how = (
        f"its priority {first.priority} beats {second.priority}"
        if first.priority != second.priority
        else "it comes first in the guide"
    )
    return [
        f"Rules '{first.id}' and '{second.id}' both match {n} condition"
        f"{'' if n == 1 else 's'}; '{first.id}' ({first.recommend.name}) ranks first because "
        f"{how}, and {second.recommend.name} follows."
    ]


def _simplest_note(before: Candidate, after: Candidate) -> str:
    if after.choice.key() == before.choice.key():
        return (
            f"Large scale: {after.choice.name} is already the simplest option "
            f"(cost {after.choice.cost})."
        )
    return (
        f"Large scale: {after.choice.name} (cost {after.choice.cost}) moves ahead of "
        f"{before.choice.name} (cost {before.choice.cost}): the guide prefers the "
        "simplest loss that still fits the task."
    )


def _stack_addons(
    fired: list[tuple[int, Rule]], ruleset: RuleSet
) -> tuple[tuple[Addon, tuple[str, ...]], ...]:
    stacked: dict[str, tuple[Addon, tuple[str, ...]]] = {}
    for _, r in fired:
        for addon_id in r.addons:
            addon, rules = stacked.get(addon_id, (ruleset.addons[addon_id], ()))
            stacked[addon_id] = (addon, (*rules, r.id))
    return tuple(stacked.values())


def _trace(
    ruleset: RuleSet,
    task: str,
    given: set[str],
    fired: list[tuple[int, Rule]],
    superseded: dict[str, Rule],
    candidates: list[Candidate],
) -> tuple[RuleTrace, ...]:
    fired_ids = {r.id for _, r in fired}
    rank_of: dict[str, int] = {}
    for rank, c in enumerate(candidates, 1):
        for rid in c.rules:
            rank_of.setdefault(rid, rank)
    out: list[RuleTrace] = []
    for r in ruleset.rules:
        spec = r.when.specificity
        if r.id not in fired_ids:
            out.append(
                RuleTrace(r.id, r.when.task, False, "not fired", _why_not(r, task, given), spec)
            )
            continue
        matched = _matched(r)
        if r.id in superseded:
            winner = superseded[r.id]
            extra = sorted(set(winner.when.conditions) - set(r.when.conditions))
            reason = (
                f"matched {matched}, but superseded by '{winner.id}', which also matches "
                + ", ".join(extra)
            )
            out.append(RuleTrace(r.id, r.when.task, True, "superseded", reason, spec))
        elif r.recommend is not None:
            rank = rank_of.get(r.id, 0)
            status = "primary" if rank == 1 else "alternative"
            out.append(
                RuleTrace(r.id, r.when.task, True, status, f"matched {matched}; rank {rank}", spec)
            )
        elif r.prefer is not None:
            reason = f"matched {matched}; each rule answers with its cheapest option"
            out.append(RuleTrace(r.id, r.when.task, True, "preference", reason, spec))
        else:
            names = ", ".join(ruleset.addons[a].name for a in r.addons)
            out.append(
                RuleTrace(
                    r.id, r.when.task, True, "add-on", f"matched {matched}; adds {names}", spec
                )
            )
    return tuple(out)


def _matched(rule: Rule) -> str:
    parts = [f"task {rule.when.task}"] if rule.when.task else ["any task"]
    parts += [f"'{c}'" for c in rule.when.conditions]
    return " + ".join(parts)


def _why_not(rule: Rule, task: str, given: set[str]) -> str:
    reasons = []
    if rule.when.task is not None and rule.when.task != task:
        reasons.append(f"needs task {rule.when.task} (task is {task})")
    missing = [c for c in rule.when.conditions if c not in given]
    if missing:
        word = "condition" if len(missing) == 1 else "conditions"
        reasons.append(f"missing {word} " + ", ".join(f"'{c}'" for c in missing))
    return "; ".join(reasons)
