"""The card JSON a Workspace add-on may answer, as Google's card reference documents it (Card v1 for
add-ons: CardHeader, Section, the widgets the add-on uses, Button/OnClick/Action, and the three
response shapes). Strict: a field Google does not document fails, so a typo cannot slip through."""

from __future__ import annotations

ACTION = {
    "type": "object", "additionalProperties": False, "required": ["function"],
    "properties": {
        "function": {"type": "string", "pattern": "^https://"},  # an HTTP add-on's function is a URL
        "parameters": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["key", "value"],
            "properties": {"key": {"type": "string"}, "value": {"type": "string"}}}},
        "loadIndicator": {"enum": ["SPINNER", "NONE"]},
        "persistValues": {"type": "boolean"},
        "interaction": {"enum": ["INTERACTION_UNSPECIFIED", "OPEN_DIALOG"]},
    },
}
ON_CLICK = {
    "type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
    "properties": {
        "action": ACTION,
        "openLink": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}},
    },
}
BUTTON = {
    "type": "object", "additionalProperties": False, "required": ["text", "onClick"],
    "properties": {"text": {"type": "string", "minLength": 1}, "onClick": ON_CLICK, "disabled": {"type": "boolean"},
                   "altText": {"type": "string"},
                   "type": {"enum": ["OUTLINED", "FILLED", "FILLED_TONAL", "BORDERLESS"]}},
}
NAMED = {"name": {"type": "string", "pattern": "^[a-z_]+$"}, "label": {"type": "string"}}
WIDGETS = {
    "decoratedText": {
        "type": "object", "additionalProperties": False, "required": ["text"],
        "properties": {"text": {"type": "string", "minLength": 1}, "topLabel": {"type": "string"},
                       "bottomLabel": {"type": "string"}, "wrapText": {"type": "boolean"},
                       "button": BUTTON, "onClick": ON_CLICK}},
    "textInput": {
        "type": "object", "additionalProperties": False, "required": ["name"],
        "properties": {**NAMED, "hintText": {"type": "string"}, "value": {"type": "string"},
                       "type": {"enum": ["SINGLE_LINE", "MULTIPLE_LINE"]}}},
    "selectionInput": {
        "type": "object", "additionalProperties": False, "required": ["name", "type", "items"],
        "properties": {**NAMED, "type": {"enum": ["CHECK_BOX", "RADIO_BUTTON", "SWITCH", "DROPDOWN", "MULTI_SELECT"]},
                       "items": {"type": "array", "items": {
                           "type": "object", "additionalProperties": False, "required": ["text", "value"],
                           "properties": {"text": {"type": "string"}, "value": {"type": "string"},
                                          "selected": {"type": "boolean"},
                                          "bottomText": {"type": "string"}}}}}},
    "dateTimePicker": {
        "type": "object", "additionalProperties": False, "required": ["name", "type"],
        "properties": {**NAMED, "type": {"enum": ["DATE_AND_TIME", "DATE_ONLY", "TIME_ONLY"]},
                       "valueMsEpoch": {"type": "string", "pattern": r"^-?\d+$"},  # int64 in JSON: a string
                       "timezoneOffsetDate": {"type": "integer"}}},
    "buttonList": {
        "type": "object", "additionalProperties": False, "required": ["buttons"],
        "properties": {"buttons": {"type": "array", "minItems": 1, "items": BUTTON}}},
}
WIDGET = {"type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
          "properties": WIDGETS}
CARD = {
    "type": "object", "additionalProperties": False, "required": ["sections"],
    "properties": {
        "header": {"type": "object", "additionalProperties": False, "required": ["title"],
                   "properties": {"title": {"type": "string", "minLength": 1}, "subtitle": {"type": "string"},
                                  "imageUrl": {"type": "string"}, "imageType": {"enum": ["SQUARE", "CIRCLE"]},
                                  "imageAltText": {"type": "string"}}},
        "name": {"type": "string"},
        "sections": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["widgets"],
            "properties": {"header": {"type": "string"}, "collapsible": {"type": "boolean"},
                           "uncollapsibleWidgetsCount": {"type": "integer"},
                           "widgets": {"type": "array", "minItems": 1, "items": WIDGET}}}},
    },
}


def _navigation(kind: str) -> dict:
    return {"type": "object", "additionalProperties": False, "required": ["navigations"],
            "properties": {"navigations": {"type": "array", "minItems": 1, "items": {
                "type": "object", "additionalProperties": False, "required": [kind], "properties": {kind: CARD}}}}}


RESPONSE = {
    "oneOf": [
        {"type": "object", "additionalProperties": False, "required": ["action"],  # a trigger's answer
         "properties": {"action": _navigation("pushCard")}},
        {"type": "object", "additionalProperties": False, "required": ["renderActions"],  # a card action's
         "properties": {"renderActions": {"type": "object", "additionalProperties": False, "required": ["action"],
                                          "properties": {"action": _navigation("updateCard")}}}},
        {"type": "object", "additionalProperties": False, "required": ["renderActions"],  # the file-scope dialog
         "properties": {"renderActions": {
             "type": "object", "additionalProperties": False, "required": ["hostAppAction"],
             "properties": {"hostAppAction": {
                 "type": "object", "additionalProperties": False, "required": ["editorAction"],
                 "properties": {"editorAction": {
                     "type": "object", "additionalProperties": False,
                     "required": ["requestFileScopeForActiveDocument"],
                     "properties": {"requestFileScopeForActiveDocument": {"type": "object",
                                                                          "maxProperties": 0}}}}}}}}},
    ],
}


def validate(response: dict) -> None:
    import jsonschema

    jsonschema.validate(response, RESPONSE)


def the_card(response: dict) -> dict:
    """The one card a push or update response carries."""
    if "action" in response:
        return response["action"]["navigations"][0]["pushCard"]
    return response["renderActions"]["action"]["navigations"][0]["updateCard"]


def widgets(card: dict) -> list[dict]:
    return [w for s in card["sections"] for w in s["widgets"]]
