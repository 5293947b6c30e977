"""What the operating system gives: the keyring for credentials, autostart at login, atomic file writes, logging,
the app's desktop identity and glibc heap tuning.
"""
