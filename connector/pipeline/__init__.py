"""The lead pipeline: new people in the cache → match → enrich → qualify → route → outbox, one transaction per batch.

pipeline = LeadPipeline.open(db, loaded_config)
result = pipeline.process_pending()      # route every waiting lead; safe to call in a loop
decision = pipeline.route_now(lead)      # the instant-routing path (API, webhooks)
"""

from connector.pipeline.runner import LeadPipeline, PipelineResult

__all__ = ["LeadPipeline", "PipelineResult"]
