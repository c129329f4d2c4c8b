"""The local store's schema, as an ordered list of migrations.

``PRAGMA user_version`` records the schema version. Each migration runs in one transaction, so a
store is always at exactly one version; a new store is built in a temporary file and appears
whole (creation.py). A store whose version is newer than ``SCHEMA_VERSION``
was written by a newer issue-core and is refused rather than guessed at.

The schema is kept portable on purpose (no ``COLLATE NOCASE``, no ``AUTOINCREMENT``,
``name_key`` columns for case-insensitive uniqueness, a counter table for number allocation), so
that a later PostgreSQL implementation of the same store can share it. Only the FTS5 table is
SQLite-specific; the queries' engine-specific spellings (JSON keys, full-text match, skipping
duplicates) go through ``issue_core.storage.dialect``.

Room is left for later issues: sync mappings key on ``issues.uid`` (stable across
renumbering); ``claims``, ``events`` and ``issue_links`` (dependencies) are keyed by
``issues.id``.
"""

from __future__ import annotations

# ``PRAGMA application_id`` of every store created or migrated by this code ("Issu"): tells an
# issue-core store from another program's SQLite file. Stores made before it was set have 0
# and are recognised by their tables (see store.py).
APPLICATION_ID = 0x49737375

# Every column holding an instant (migration v3 rewrites them into the fixed-width form).
_TIMESTAMP_COLUMNS = (
    ("users", "created_at"),
    ("milestones", "due_on"),
    ("milestones", "created_at"),
    ("milestones", "updated_at"),
    ("milestones", "closed_at"),
    ("labels", "created_at"),
    ("issues", "created_at"),
    ("issues", "updated_at"),
    ("issues", "closed_at"),
    ("issues", "due_at"),
    ("comments", "created_at"),
    ("comments", "updated_at"),
    ("tombstones", "deleted_at"),
)

MIGRATIONS: list[str] = [
    # ---------------------------------------------------------------- version 1
    """
    CREATE TABLE counters (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    INSERT INTO counters (name, value) VALUES ('issue_number', 0), ('change_seq', 0);

    CREATE TABLE users (
        username   TEXT PRIMARY KEY,
        name       TEXT,
        email      TEXT,
        created_at TEXT NOT NULL
    );

    CREATE TABLE milestones (
        id          INTEGER PRIMARY KEY,
        title       TEXT NOT NULL,
        title_key   TEXT NOT NULL UNIQUE,
        description TEXT,
        state       TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
        due_on      TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        closed_at   TEXT
    );

    CREATE TABLE labels (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,
        name_key    TEXT NOT NULL UNIQUE,
        color       TEXT,
        description TEXT,
        created_at  TEXT NOT NULL
    );

    CREATE TABLE issues (
        id             INTEGER PRIMARY KEY,
        uid            TEXT NOT NULL UNIQUE,
        number         INTEGER NOT NULL UNIQUE,
        title          TEXT NOT NULL,
        description    TEXT NOT NULL DEFAULT '',
        state          TEXT NOT NULL DEFAULT 'open'
                       CHECK (state IN ('open', 'in_progress', 'closed')),
        milestone_id   INTEGER REFERENCES milestones (id) ON DELETE SET NULL,
        author         TEXT,
        sync_metadata  TEXT NOT NULL DEFAULT '{}',
        version        INTEGER NOT NULL DEFAULT 1,
        comments_count INTEGER NOT NULL DEFAULT 0,
        change_seq     INTEGER NOT NULL,
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL,
        closed_at      TEXT
    );
    CREATE INDEX issues_state_created ON issues (state, created_at, number);
    CREATE INDEX issues_created ON issues (created_at, number);
    CREATE INDEX issues_state_updated ON issues (state, updated_at, number);
    CREATE INDEX issues_updated ON issues (updated_at, number);
    CREATE INDEX issues_milestone ON issues (milestone_id);
    CREATE INDEX issues_author ON issues (author);
    CREATE INDEX issues_change_seq ON issues (change_seq);

    CREATE TABLE issue_labels (
        issue_id INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
        label_id INTEGER NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
        PRIMARY KEY (issue_id, label_id)
    );
    CREATE INDEX issue_labels_label ON issue_labels (label_id, issue_id);

    CREATE TABLE issue_assignees (
        issue_id INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
        username TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (issue_id, username)
    );
    CREATE INDEX issue_assignees_user ON issue_assignees (username, issue_id);

    CREATE TABLE comments (
        id         INTEGER PRIMARY KEY,
        issue_id   INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
        author     TEXT,
        body       TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX comments_issue ON comments (issue_id, id);

    -- Deleted issues stay visible to the change feed, so sync can propagate deletions.
    CREATE TABLE tombstones (
        uid        TEXT PRIMARY KEY,
        number     INTEGER NOT NULL,
        change_seq INTEGER NOT NULL,
        deleted_at TEXT NOT NULL
    );
    CREATE INDEX tombstones_change_seq ON tombstones (change_seq);

    -- Full-text index over titles, descriptions and comments; rowid = issues.id.
    -- Maintained by the store (not triggers) so bulk imports can rebuild it once.
    CREATE VIRTUAL TABLE issues_fts USING fts5 (
        title, description, comments, tokenize = 'unicode61 remove_diacritics 2'
    );
    """,
    # ---------------------------------------------------------------- version 2
    # A due date (the ingestion server's due_in_days, Gitea's due_date) and one priority scale,
    # 0 (critical) .. 4 (backlog), that the ready queue will order by.
    """
    ALTER TABLE issues ADD COLUMN due_at TEXT;
    ALTER TABLE issues ADD COLUMN priority INTEGER CHECK (priority BETWEEN 0 AND 4);
    """,
    # ---------------------------------------------------------------- version 3
    # Instants in one fixed-width form (timestamps.py): rows written with whole seconds
    # ("...:13Z") get ".000000", so text order is time order for --since and sorting.
    "\n".join(
        f"UPDATE {table} SET {column} = substr({column}, 1, 19) || '.000000Z' "
        f"WHERE length({column}) = 20;"
        for table, column in _TIMESTAMP_COLUMNS
    ),
    # ---------------------------------------------------------------- version 4
    # Comments and milestones can be deleted, and their ids are how users name them
    # (`issue comment 5 --edit 7`, `issue milestone delete 3`): ids come from counters, so a
    # deleted one is never reused (SQLite's rowid would hand the highest one out again).
    """
    INSERT INTO counters (name, value) SELECT 'comment_id', COALESCE(MAX(id), 0) FROM comments;
    INSERT INTO counters (name, value)
        SELECT 'milestone_id', COALESCE(MAX(id), 0) FROM milestones;
    """,
    # ---------------------------------------------------------------- version 5
    # Why a closed issue was closed (GitHub's state_reason). Issues closed before reasons
    # existed were closed plainly, which is what "completed" means now.
    """
    ALTER TABLE issues ADD COLUMN close_reason TEXT
        CHECK (close_reason IN ('completed', 'not_planned', 'duplicate'));
    UPDATE issues SET close_reason = 'completed' WHERE state = 'closed';
    """,
    # ---------------------------------------------------------------- version 6
    # The event log (feed.py writes it, in the transaction of the change: its seq is the
    # change's change_seq, so the log and the change feed share one cursor) and claims with
    # leases (claims.py): at most one live holder per issue, by the primary key. Events keep
    # the number and uid, not a foreign key: a deleted issue's history stays.
    """
    CREATE TABLE events (
        seq      INTEGER PRIMARY KEY,
        issue_id INTEGER NOT NULL,
        number   INTEGER NOT NULL,
        uid      TEXT NOT NULL,
        kind     TEXT NOT NULL,
        actor    TEXT NOT NULL,
        at       TEXT NOT NULL,
        data     TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_number ON events (number, seq);
    CREATE INDEX events_at ON events (at, seq);

    CREATE TABLE claims (
        issue_id   INTEGER PRIMARY KEY REFERENCES issues (id) ON DELETE CASCADE,
        holder     TEXT NOT NULL,
        claimed_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX claims_expires ON claims (expires_at);
    """,
    # ---------------------------------------------------------------- version 7
    # Dependencies (links.py, rules in core.dependencies): "source blocks target", "source is
    # the parent of target", "related" (kept lower id first). The primary key serves "what does
    # X block / who are X's children"; the target index serves "what blocks X", which the ready
    # queue asks of every open issue.
    """
    CREATE TABLE issue_links (
        kind       TEXT NOT NULL CHECK (kind IN ('blocks', 'parent', 'related')),
        source_id  INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
        target_id  INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        PRIMARY KEY (source_id, kind, target_id),
        CHECK (source_id <> target_id)
    );
    CREATE INDEX issue_links_target ON issue_links (target_id, kind, source_id);
    """,
    # ---------------------------------------------------------------- version 8
    # A comment's marker: the client-generated id sync adds a comment with, so that a run
    # interrupted after the write finds it instead of adding it twice (one per issue).
    """
    ALTER TABLE comments ADD COLUMN marker TEXT;
    CREATE UNIQUE INDEX comments_marker ON comments (issue_id, marker) WHERE marker IS NOT NULL;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
