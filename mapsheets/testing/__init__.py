"""Test helpers shipped with mapsheets (the Google API double lives in google_api)."""
