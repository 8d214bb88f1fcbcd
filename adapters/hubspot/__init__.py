"""HubSpot adapter: hubspot-api-client calls, error mapping onto connector.errors, stream readers, record mapping."""

from adapters.hubspot.reader import HubSpotReader

__all__ = ["HubSpotReader"]
