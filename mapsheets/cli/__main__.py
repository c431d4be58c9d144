from mapsheets.cli import run

run()
