"""The local spool: where a recording waits when the server cannot take it, and its replay.

- :mod:`~voice_recordings.spool.entry`: an entry's format (``entry.json``, the names on disk).
- :mod:`~voice_recordings.spool.entry_files`: reaching an entry's files safely (no link, only
  regular files, only this user's; durable writes).
- :mod:`~voice_recordings.spool.spool_directory`: when the spool directory is trusted.
- :mod:`~voice_recordings.spool.spool`: the spool (write, list, claim, read, remove an entry).
- :mod:`~voice_recordings.spool.replay`: upload what it holds, remove what the server verified.
"""
