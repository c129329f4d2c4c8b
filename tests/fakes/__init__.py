"""In-process fake forges for tests, held honest by the official API descriptions.

``server`` runs an ASGI app on 127.0.0.1 and checks every exchange (``ContractRecorder``);
``faults`` injects the generic faults; ``running`` is what every fake's fixture shares.
Gitea: ``gitea`` (the app), ``gitea_state``, ``contracts`` (the Swagger checker), ``fixtures``.
GitHub: ``github`` (the request cycle), ``github_routes`` (the operations), ``github_state``,
``github_shapes`` (JSON as api.github.com sends it), ``github_contract`` (the OpenAPI checker),
``github_seed`` (the recorded repository) and ``github_fixtures``. GitLab: the ``gitlab*``
modules.
"""
