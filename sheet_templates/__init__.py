"""Plan templates shipped with mapsheets (installed as ``mapsheets.templates_data``)."""
