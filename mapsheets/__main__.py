"""``python -m mapsheets``: the command line, as the ``mapsheets`` script runs it."""

from mapsheets.cli import cli

if __name__ == "__main__":
    cli(prog_name="mapsheets")
