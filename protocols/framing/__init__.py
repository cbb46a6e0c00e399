"""Byte framers for links: WAN stream framing and the comms hub interface (ICHI) rig frames."""
