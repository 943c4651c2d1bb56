"""The ``trustplane`` command line: local commands work on files and the database; client
commands go through the SDK over HTTP."""
