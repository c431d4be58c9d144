"""The one email-address parser: bare addresses and "Name <address>", as people type them."""

import pytest

from mapsheets.core.addresses import find_email, parse_address


@pytest.mark.parametrize("text, expected", [
    ("jane@acme.example", ("", "jane@acme.example")),
    ("  jane@acme.example ", ("", "jane@acme.example")),
    ("Jane Doe <jane@acme.example>", ("Jane Doe", "jane@acme.example")),
    ('"Doe, Jane" <jane@acme.example>', ("Doe, Jane", "jane@acme.example")),
    ("<jane@acme.example>", ("", "jane@acme.example")),
    ("Zoë Ünal <zoe@bücher.example>", ("Zoë Ünal", "zoe@bücher.example")),
    ("jane@acme", None),  # no dot in the domain
    ("Jane Doe", None),
    ("Jane <jane@acme.example> and Bob <bob@acme.example>", None),
    ("jane@acme.example, bob@acme.example", None),
    ("", None),
])
def test_parse_address(text, expected):
    assert parse_address(text) == expected


def test_find_email_anywhere_in_text():
    assert find_email("Jane Doe <jane@acme.example>, CFO") == "jane@acme.example"
    assert find_email("Sam (sam@globex.example)") == "sam@globex.example"
    assert find_email("Sam, AE") is None


def test_owners_and_addresses_read_an_email_alike():
    """Owners cells and address fields used two patterns: an owner written "Sam (sam@globex.example)"
    kept the parenthesis in their email, and a punycode domain was no email at all."""
    from mapsheets.core.people import owner_key, split_person

    assert split_person("Sam (sam@globex.example)") == ("Sam", "sam@globex.example")
    assert owner_key("Ivan <ivan@shop.xn--p1ai>") == "ivan@shop.xn--p1ai"
    assert find_email("Ivan <ivan@shop.xn--p1ai>") == "ivan@shop.xn--p1ai"
