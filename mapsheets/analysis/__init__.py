"""Analysis over many deals or plans: the one package that imports pandas (and numpy).

Imported only by the commands that need it, so `mapsheets --help` never pays for pandas.
"""
