"""The math: one module per loss family, NumPy only.

Every kernel takes predictions first and targets second, parameters keyword-only, and
returns a :class:`~losscli.losses._reduce.Terms` (per-row loss values and, where the
loss is a weighted mean, per-row weights). Reduction happens in one place,
:func:`losscli.losses._reduce.reduce_terms`. Nothing here reads files or prints.
"""
