"""The mapsheets command line: each command parses, calls one service function, prints.

Errors become one line on stderr and exit status 1, in ``base._Cli`` and nowhere else.
"""

from mapsheets.cli import (  # noqa: F401  (they register commands)
    convert,
    crm,
    digests,
    forecast,
    history,
    lifecycle,
    plans,
    serve,
    sharing,
    stages,
    team,
)
from mapsheets.cli.base import cli, run

__all__ = ["cli", "run"]
