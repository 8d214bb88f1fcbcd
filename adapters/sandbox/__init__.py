"""The CRM sandbox: a local server speaking HubSpot's CRM v3 and Salesforce's REST APIs.

It powers the demo, the integration tests and the benchmarks, and lets a user try rules before
touching a real portal. See docs/sandbox.md for what is implemented and how it differs.
"""
