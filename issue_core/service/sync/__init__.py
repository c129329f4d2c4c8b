"""Sync between any two backends (issue 13): nothing lost, nothing duplicated.

The modules, each with one reason to change:

- ``fields``: which fields of an issue sync carries, as plain snapshots, and the key a copy
  carries in ``sync_metadata`` (the link id that lets a crashed create be found again);
- ``users``: the ``[sync.users]`` table that maps user names between backends;
- ``state``: the durable state (links and their bases, comment links, cursors, intents,
  conflicts, runs) on the shared SQL engine, in the local store's file or a sync state db;
- ``planner``: the pure three-way, field-level decision for one linked issue;
- ``comments``: the comment marker and the plan for one issue's comments;
- ``plan``: the actions a run will take (what ``--dry-run`` prints);
- ``applier``: the writes, each recorded as an intent first;
- ``engine``: one run: read both change feeds, match, plan, guard, apply, advance;
- ``pairs``: opening a pair of configured backends and its state.

Front ends call ``engine.run`` / ``engine.resolve`` with connected backends; this package opens
no backend itself.
"""
