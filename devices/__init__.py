"""Composition: a Device is a firmware Machine with ports, clock and storage, on asyncio."""
