"""Live rule reload: each loop turn the daemon asks ``ConfigWatcher.poll`` whether the config file changed.

A change is detected by mtime/size first (a stat per turn is free) and confirmed by content hash. A changed file
is validated in full before anything is swapped; an invalid one is rejected with the loader's message (file, line,
field) and the running config stays in force. Each bad content is reported once, not on every turn.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from connector import metrics
from connector.config.loader import LoadedConfig, load_config
from connector.errors import ConfigError
from connector.logs import get_logger

log = get_logger("leadrelay.daemon.reload")
# Parts built once at start-up from these sections; a change to them is reported, and applies after a restart.
RESTART_SECTIONS = ("database", "crms")


class ConfigWatcher:
    """Watches one config file; ``poll`` returns a newly validated config when its content changed."""

    def __init__(self, path: Path, current: LoadedConfig) -> None:
        self.path = path
        self.current = current
        self._stat = self._signature()
        self._rejected: str | None = None

    def poll(self) -> LoadedConfig | None:
        """A new validated config if the file's content changed and is valid; None otherwise (errors are logged)."""
        stat = self._signature()
        if stat == self._stat:
            return None
        self._stat = stat
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            log.error("config_reload_rejected", path=str(self.path), message=f"cannot read: {exc.strerror}")
            return None
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        if digest in (self.current.version, self._rejected):
            return None
        return self._load(digest)

    def _load(self, digest: str) -> LoadedConfig | None:
        try:
            loaded = load_config(self.path)
        except ConfigError as exc:
            self._rejected = digest
            metrics.CONFIG_RELOADS.labels(result="rejected").inc()
            log.error("config_reload_rejected", path=str(self.path), message=str(exc), running=self.current.version)
            return None
        stale = [
            name for name in RESTART_SECTIONS if getattr(loaded.config, name) != getattr(self.current.config, name)
        ]
        if stale:
            log.warning("config_reload_partial", sections=stale, message="these sections apply after a restart")
        previous, self.current, self._rejected = self.current.version, loaded, None
        metrics.CONFIG_RELOADS.labels(result="applied").inc()
        log.info("config_reloaded", path=str(self.path), version=loaded.version, previous=previous)
        return loaded

    def _signature(self) -> tuple[float, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_mtime, stat.st_size)
