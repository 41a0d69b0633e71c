"""What the kernel launcher and the notebook tests read about other processes in Linux's /proc:
their children, whether they are still running, their environment. One copy, for both."""
from pathlib import Path


def children_of(pid):
    """The process ids whose parent is `pid` (any of its threads), zombies included: a child
    that has exited but not been reaped is still there, holding its pid. Empty if `pid` is
    gone."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return []
    found = []
    for task in tasks:
        try:
            found += (task / "children").read_text().split()
        except FileNotFoundError:  # the thread ended while we looked
            continue
    return [int(child) for child in found]


def alive(pid):
    """Whether `pid` is a process that has not exited (a zombie has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    # The state follows the command name, which is in parentheses and may hold any character.
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def environ_of(pid):
    """The environment `pid` started with (/proc/PID/environ), as a dict of str."""
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    pairs = (entry.decode(errors="surrogateescape").split("=", 1) for entry in entries if b"=" in entry)
    return dict(pairs)


def parent_of(pid):
    """The parent's process id, from /proc/PID/stat."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
