"""secondline: the on-call engineer's tray companion."""
__version__ = "0.1.0"
