"""The daemon's HTTP surface: HubSpot webhooks, the routing API, health and metrics (starlette on uvicorn)."""
