"""Deterministic device logic: one state machine per device type, no I/O and no wall clock."""
