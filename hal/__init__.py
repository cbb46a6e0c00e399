"""The hardware abstraction layer: ports, clocks and non-volatile storage. Knows no frames."""
