"""The ``smemu`` command line (click). Thin: parses options and calls the other layers.

Layer: tools, the top of the dependency direction (architecture.md).
"""
