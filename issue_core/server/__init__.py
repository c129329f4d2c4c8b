"""The ingestion server (``issue serve``): upstream tasks in, issues out.

Importing this package imports nothing: the web framework (``api`` extra) is loaded only by
``app.py`` and ``runner.py``, and ``issue outbox`` uses ``outbox.py``/``delivery.py`` alone.
See docs/ingestion.md.
"""
