"""The TOML file turned into a typed Config: the loader, one dataclass per section, value parsers, positions for
error messages and the commented example the `init` command writes.
"""
