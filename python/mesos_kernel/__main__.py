"""Finds the `mesos-kernel` binary installed with this package and runs it in this process.

Where to look, in order: the file list pip recorded for this distribution (exactly where the
binary went, whatever the install scheme: a venv, --user, --prefix), the scripts directory of
this interpreter's environment, then PATH.
"""

import os
import shutil
import sys
import sysconfig
from importlib import metadata

NAME = "mesos-kernel"
EXE = NAME + (".exe" if os.name == "nt" else "")


def recorded():
    """The binary as the installed distribution's RECORD lists it, if it does."""
    try:
        dist = metadata.distribution(NAME)
    except metadata.PackageNotFoundError:
        return None
    for path in dist.files or ():
        if path.name == EXE and path.parent.name in ("bin", "Scripts"):
            return str(dist.locate_file(path))
    return None


def candidates():
    yield recorded()
    schemes = [None]
    if hasattr(sysconfig, "get_preferred_scheme"):
        schemes.append(sysconfig.get_preferred_scheme("user"))
    for scheme in schemes:
        try:
            scripts = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        except KeyError:
            continue
        if scripts:
            yield os.path.join(scripts, EXE)
    yield shutil.which(NAME)


def find():
    for path in candidates():
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def main():
    exe = find()
    if exe is None:
        sys.exit(
            f"{NAME}: the kernel binary is not installed beside this package "
            f"({sys.prefix}) nor on PATH; reinstall with `pip install mesos-kernel`"
        )
    argv = [exe] + sys.argv[1:]
    if os.name == "nt":
        import subprocess

        sys.exit(subprocess.call(argv))
    # Replaced, not wrapped: the front end's signals (SIGINT for an interrupt, SIGKILL for a
    # restart) and its parent-process watch reach the kernel itself.
    os.execv(exe, argv)


if __name__ == "__main__":
    main()
