"""Keeping the cache current: declarative streams (``streams``), their cursors (``cursors``), one engine
(``engine``) that runs every stream of every CRM, and progress reporting (``progress``)."""
