"""``issue mcp``: a Model Context Protocol server over the service layer.

A front end like the CLI: tools parse their arguments, call ``service/`` use cases only and
shape the answer. ``schemas`` (the tools as a model sees them), ``shapes`` (compact issues,
pages), ``arguments`` (checks), ``errors`` (the CLI's error object as a tool error),
``reads``/``writes``/``coordination`` (the tools), ``registry`` (which are served),
``resources``/``guide`` (the workflow guide), ``session`` (the backend), ``server`` (the SDK).
Only ``server`` and ``resources`` import the SDK (the ``mcp`` extra).
"""
