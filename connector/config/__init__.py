"""The typed, validated configuration: ``load_config(path)`` is the one place a config file is read."""

from connector.config.loader import LoadedConfig, load_config, parse_config
from connector.config.root import LeadrelayConfig

__all__ = ["LeadrelayConfig", "LoadedConfig", "load_config", "parse_config"]
