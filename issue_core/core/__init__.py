"""Backend-agnostic core, the ground floor (it imports nothing else of issue-core): domain
models, the backend interface, errors and configuration, the one three-way merge (``merge``),
the one backoff curve (``backoff``) and the search rules (``search``)."""
