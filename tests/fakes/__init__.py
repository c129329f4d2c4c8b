"""In-process fake forges for tests, held honest by the official API descriptions.

``contracts`` validates requests and responses against ``tests/contracts``; ``gitea`` is a
fake Gitea ASGI app; ``server`` runs an ASGI app on 127.0.0.1 and checks every exchange.
"""
