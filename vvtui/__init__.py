"""vvtui: is this provider really serving the model it says it serves, and at what price and speed?

Keep this module import-free: `vvtui --help` and `import vvtui.scoring` must stay cheap.
"""

__version__ = "0.1.0"
