"""``python -m mapsheets``: the command line, as the ``mapsheets`` script runs it."""

from mapsheets.cli import run

if __name__ == "__main__":
    run(prog_name="mapsheets")
