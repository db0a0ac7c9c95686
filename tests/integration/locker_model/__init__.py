"""The model-based test of the locker (issue 11): a reference model, the real locker, one adapter.

`adapter` holds every call into the locker (so a changed API is changed in one place),
`world` the reference model, `machine` the hypothesis state machine that drives both.
"""
