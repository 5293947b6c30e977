"""The `secondline` command: argument parsing and the commands (main), the commands that talk to a running app,
and `doctor`.
"""
