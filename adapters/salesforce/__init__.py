"""Salesforce adapter: simple-salesforce calls, error mapping onto connector.errors, stream readers, record mapping."""

from adapters.salesforce.reader import SalesforceReader

__all__ = ["SalesforceReader"]
