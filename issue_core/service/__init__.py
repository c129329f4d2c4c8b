"""Use cases: what the CLI, the Python API and the server do with a backend, as plain functions.

Front ends parse their input, call these functions and render what they return; nothing here
prints, reads flags or knows Click. Backends are opened only through ``runtime``.

(Nothing is imported here: each front end imports just the module it needs, which keeps
``issue list``'s start-up as it is.)
"""
