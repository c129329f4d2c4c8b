"""The SQL engine every durable table of issue-core shares (the issue store, the server's state
db): connections, write transactions, migrations, chunked inserts and the dialect seam. It
knows SQL and the database's error codes, never issues or tasks; it imports only ``core``.
"""
