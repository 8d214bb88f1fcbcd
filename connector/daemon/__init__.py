"""The long-running daemon: the loop (``Daemon``), its schedule, config watcher and heartbeat."""

from connector.daemon.loop import Daemon, TurnReport

__all__ = ["Daemon", "TurnReport"]
