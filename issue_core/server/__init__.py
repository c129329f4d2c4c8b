"""The ingestion server (``issue serve``): upstream tasks in, issues out.

Importing this package imports nothing: the web framework (``api`` extra) is loaded only by
``app.py`` and ``runner.py``, and ``issue outbox`` uses ``outbox.py``/``delivery.py`` alone.
See docs/ingestion.md.

What is essential and what is there for throughput (docs/performance.md has the figures):

* the contract and the HTTP face: ``schema.py`` (TaskSpec → the use case's ``TaskInput``),
  ``app.py`` (HTTP only), ``middleware.py``, ``auth.py``, ``routing.py``;
* ``endpoint.py``: ``IngestEndpoint``, ingestion as the server runs it (pipeline, configuration,
  state), parse → prepare → ingest → answer as plain data, for HTTP or another transport;
* the use case it runs: ``issue_core/service/ingest.py`` (prepare, claim, create a batch, record
  the outcomes) over ``service/tasks.py`` (the task as plain data, its key, its row) and
  ``service/failures.py`` (the one failure policy and backoff);
* durable state and retries: ``outbox.py`` (server.db), ``delivery.py`` (outbox delivery,
  circuits, the backend pool);
* the throughput machinery, which only makes the same thing faster: ``worker.py`` (the event
  loop's side: one hand-over per loop turn), ``transport.py`` (a thread or the writer child
  process), ``pipeline.py`` (group commit: claims and the last cycle's records in one
  transaction), ``writer.py`` (the pipeline's backend side), ``messages.py`` (what they say to
  each other), ``checkpointer.py`` (WAL checkpoints off the cycle with ``--synchronous
  normal``), ``http_protocol.py``, ``logs.py``'s batching handler; ``timings.py`` measures it
  (opt-in).
"""
