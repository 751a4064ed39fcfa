"""Files of personal data written by operators' commands (backups, the full export, a restored
database): readable and writable by their owner alone (0600) whatever the umask, and never opened
through something already at that path (a file or a symlink someone left there); the instance folder
made 0700."""

import contextlib
import errno
import os
import stat


def check_replaceable(path):
    """Raise OSError unless `path` is free, a regular file or a symlink: what a command's output may be
    renamed over or replace. `--out /dev/null` run as root had the device renamed over by the file (a
    robustness hunt: every program on the machine then failed to write to /dev/null)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:  # nothing there (or a parent that is no folder): the create reports what is wrong
        return
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise OSError(errno.EEXIST, "it is not a regular file (a device, a pipe, a folder)", os.fspath(path))


def create_private(path):
    """Create `path` anew, mode 0600, and return its descriptor for writing. A file or symlink at the
    path is removed first (anything else is refused: check_replaceable); O_EXCL and O_NOFOLLOW then
    refuse whatever appears there in between. OSError as the system gives it."""
    check_replaceable(path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)


def private_folder(path):
    """Make the folder `path` (and its parents) if it is missing, the folder itself 0700: the instance
    folder holds the SQLite database and the development key, which SQLite and the umask would leave
    readable by every account of the machine (0644). A folder that exists keeps the mode its owner gave it."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o700)
            os.chmod(path, 0o700)  # the umask may have taken bits off mkdir's mode
