"""Measuring routing: first touches, the SLA sweep that re-routes stale leads, metrics and the report.

touches.detect_first_touches(db)          # record first_touch_ms per routed lead from the synced cache
engagement.first_owner_touch(conn, ...)   # the assigned owner's earliest synced activity on a lead
SlaSweeper(pipeline, config).sweep(now)   # remind, re-route untouched leads (previous owner excluded), escalate
metrics.compute(db, routing, period)      # speed-to-lead, meeting rate, deal funnel, fairness, reassignment/...
"""
