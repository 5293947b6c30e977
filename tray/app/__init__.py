"""The shell: the wiring that starts every stage, the user's actions on alerts, the user state kept across runs,
and the control channel the CLI uses to reach the running app.
"""
