from mapsheets.cli import cli

cli()
