"""Files of personal data written by operators' commands (backups, the full export, a restored
database): readable and writable by their owner alone (0600) whatever the umask, and never opened
through something already at that path (a file or a symlink someone left there)."""

import contextlib
import os


def create_private(path):
    """Create `path` anew, mode 0600, and return its descriptor for writing. Anything at the path is
    removed first; O_EXCL and O_NOFOLLOW then refuse whatever appears there in between. OSError as
    the system gives it."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
