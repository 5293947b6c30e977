"""The domain and its pure rules: Alert, Health, Snapshot and the rules that reduce alerts to one health, the
status document, the contract shared with the extension (read from the package) and the words the user reads,
and the errors every stage raises. It imports nothing outside tray.core, so every other stage can lean on it.
"""
