"""Hardware in the loop: head-end side tools -- building secured commands, the demo, benchmarks.

Layer: hil (may use protocols, firmware, hal and devices; used by tools only). The
conformance runner, replay with re-keying and the pytest plugin grow here.
"""
