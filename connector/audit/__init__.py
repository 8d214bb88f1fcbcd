"""The continuity audit: records whose ownership breaks account continuity, and fixes applied through the outbox.

findings = list(continuity.audit(db, config))         # streamed, cheapest checks first
plan = fix.plan(db, findings); fix.apply(db, plan, config)   # set_owner effects, compare-and-set in the CRM
"""
