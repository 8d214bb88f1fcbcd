"""Measuring routing: first touches, the SLA sweep that re-routes stale leads, metrics and the report.

touches.detect_first_touches(db)          # record first_touch_ms per routed lead from the synced cache
SlaSweeper(pipeline, config).sweep(now)   # remind, re-route untouched leads (previous owner excluded), escalate
metrics.compute(db, routing, period)      # speed-to-lead, funnel, fairness, reassignment/fallback/unmatched rates
"""
