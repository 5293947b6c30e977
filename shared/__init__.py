"""The contract between the tray app and the browser extension (status JSON Schema, palette).

This folder is the one copy. pyproject.toml maps it into the Python package as `tray.shared`, so the
wheel, the sdist, an editable install and the PyInstaller bundle all carry it as package data read with
importlib.resources.files("tray.shared"); extension/build.mjs copies the same files into the extension.
This file only makes the folder an importable package (a namespace package is invisible to
setuptools' editable finder when it is mapped from outside its parent's directory).
"""
