"""Building the sync engine from config: one reader per enabled CRM (adapters imported lazily, so the core's
import graph stays free of CRM client libraries), overlaps from each CRM's section, and the cache to write to."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlite_utils

from connector.config.crm import CrmsConfig
from connector.crm import CrmReader
from connector.errors import ConfigError
from connector.sync.engine import SyncEngine
from connector.sync.progress import ProgressSink


def build_readers(crms: CrmsConfig, only: Sequence[str] | None = None) -> list[CrmReader]:
    """Readers for the enabled CRMs (restricted to ``only`` when given); raises ConfigError if none qualify."""
    wanted = [name for name in crms.enabled if only is None or name in only]
    if not wanted:
        asked = ", ".join(only) if only else "any CRM"
        raise ConfigError(f"no enabled CRM to sync ({asked}); set crms.hubspot.enabled or crms.salesforce.enabled")
    readers: list[CrmReader] = []
    if "hubspot" in wanted:
        from adapters.hubspot import HubSpotReader

        readers.append(HubSpotReader(crms.hubspot))
    if "salesforce" in wanted:
        from adapters.salesforce import SalesforceReader

        readers.append(SalesforceReader(crms.salesforce))
    return readers


def overlaps_ms(crms: CrmsConfig) -> dict[str, int]:
    """Each CRM's incremental overlap window in milliseconds."""
    return {"hubspot": int(crms.hubspot.overlap_s * 1000), "salesforce": int(crms.salesforce.overlap_s * 1000)}


def build_engine(
    db: sqlite_utils.Database,
    crms: CrmsConfig,
    *,
    only: Sequence[str] | None = None,
    progress: ProgressSink | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> SyncEngine:
    """A ``SyncEngine`` over the configured CRMs writing into ``db`` (already migrated: ``open_cache``)."""
    return SyncEngine(
        db, build_readers(crms, only), overlap_ms=overlaps_ms(crms), progress=progress, should_stop=should_stop
    )
