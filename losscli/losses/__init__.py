"""The math: one module per loss family, NumPy only.

Every kernel takes predictions first and targets second, parameters keyword-only, and
returns a :class:`~losscli.losses._reduce.Terms` (per-row loss values and, where the
loss is a weighted mean, per-row weights). Reduction happens in one place,
:class:`losscli.losses._reduce.Partial` (Σ w·l and Σ w, mergeable across chunks), which
:class:`losscli.compute.LossAccumulator` folds; each numeric rule (sigmoid, log-softmax,
softplus, the −100 log clamp) is written once in :mod:`losscli.losses._numerics`.
Nothing here reads files, prints or changes process state, and a kernel refuses inputs
only with ``ValueError`` (the registry declares the data checks the engine makes first).
"""
