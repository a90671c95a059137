"""The ``rrm`` command-line interface."""
