"""csim: an educational container system.

Importing this package is cheap on purpose: nothing heavy (Textual, SimPy,
aiohttp) is imported here, so `csim ps` starts fast.
"""

__version__ = "0.1.0"
