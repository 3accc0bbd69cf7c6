"""Training curves: smoothing, early-stopping replays and findings (NumPy only).

:mod:`~losscli.curves.smooth` is TensorBoard's smoothing, :mod:`~losscli.curves.stopping`
replays the Keras, Lightning and torch callbacks, :mod:`~losscli.curves.findings` holds
the rules of what is wrong with a curve, :mod:`~losscli.curves.chance` the chance level
of a loss; :mod:`losscli.curves.api` (a later layer) reads the logs and builds the
``curves`` document.
"""
