"""A1 parsing/formatting of the Google API double."""
import pytest

from mapsheets.testing.google_api.a1 import A1Error, Box, format_range, parse_ref, quote_title, split_sheet


@pytest.mark.parametrize("ref,box", [
    ("A1", Box(0, 0, 1, 1)), ("B2:C3", Box(1, 1, 3, 3)), ("D4:A1", Box(0, 0, 4, 4)),
    ("A:B", Box(None, 0, None, 2)), ("2:3", Box(1, None, 3, None)), ("A2:2", Box(1, 0, 2, None)),
    ("A1:C", Box(0, 0, None, 3)), ("$A$1:$B$2", Box(0, 0, 2, 2)), ("AA10", Box(9, 26, 10, 27)),
])
def test_parse_ref(ref, box):
    assert parse_ref(ref) == box


@pytest.mark.parametrize("bad", ["", "1A", "A0", "A1:B2:C3", "foo bar"])
def test_parse_ref_rejects(bad):
    with pytest.raises(A1Error):
        parse_ref(bad)


def test_split_sheet_handles_quotes():
    assert split_sheet("'My ''x'' Sheet'!A1:B2") == ("My 'x' Sheet", "A1:B2")
    assert split_sheet("'Sheet1'") == ("Sheet1", None)
    assert split_sheet("Sheet1!A1") == ("Sheet1", "A1")
    assert split_sheet("NamedThing") == (None, "NamedThing")


def test_titles_are_quoted_like_google():
    assert quote_title("Sheet1") == "Sheet1"
    assert quote_title("D3") == "'D3'"  # would read as a cell
    assert quote_title("My 'x'") == "'My ''x'''"
    assert format_range("Sheet1", Box(0, 0, 1000, 26)) == "Sheet1!A1:Z1000"
    assert format_range("a b", Box(0, 0, 1, 1)) == "'a b'!A1"
