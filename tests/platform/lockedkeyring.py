"""A keyring backend that is installed but locked (the desktop session never unlocked it).

Used in child processes: PYTHON_KEYRING_BACKEND=lockedkeyring.LockedKeyring with this folder on
PYTHONPATH. Every call raises KeyringLocked, as the Secret Service does when the unlock prompt is
dismissed."""
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked


class LockedKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service, username):
        raise KeyringLocked("the collection is locked")

    def set_password(self, service, username, password):
        raise KeyringLocked("the collection is locked")

    def delete_password(self, service, username):
        raise KeyringLocked("the collection is locked")
