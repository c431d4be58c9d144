"""Colors as Google stores them: 8-bit channels printed as float32, zeros omitted, *Style mirrors."""
from __future__ import annotations

import math
import struct

_CHANNELS = ("red", "green", "blue", "alpha")
_MIRRORED = ("backgroundColor", "foregroundColor", "tabColor", "color")


def float32(x: float):
    """Shortest decimal that round-trips through float32 (how Google prints 0.49803922)."""
    if float(x).is_integer():
        return int(x)
    target = struct.unpack("f", struct.pack("f", x))[0]
    for digits in range(1, 10):
        text = f"{x:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == target:
            return float(text)
    return target


def quantise(rgb: dict) -> dict:
    out = {}
    for k, v in rgb.items():
        if k in _CHANNELS and isinstance(v, (int, float)) and not isinstance(v, bool):
            q = math.floor(v * 255 + 1e-6) / 255 if k != "alpha" else v
            if q:
                out[k] = float32(q)
        elif v is not None:
            out[k] = v
    return out


def _is_rgb(d: dict) -> bool:
    return bool(d) and all(k in _CHANNELS for k in d)


def normalise(value):
    """Quantise every Color and add the *Style mirror of legacy color fields."""
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        if isinstance(v, dict) and (_is_rgb(v) or (k in _MIRRORED or k == "rgbColor")):
            out[k] = quantise(v) if (_is_rgb(v) or not v) else normalise(v)
        else:
            out[k] = normalise(v)
    for k in _MIRRORED:
        if isinstance(out.get(k), dict):
            out[k + "Style"] = {"rgbColor": out[k]}
    return out


def sync_pair(props: dict, key: str, mask: str) -> None:
    """Keep a legacy color and its Style twin consistent after a masked update."""
    from .fieldmask import parse

    # membership below is by field name, not substring
    names = set(parse(mask)) if mask.strip() != "*" else {key, key + "Style"}
    style = key + "Style"
    if style in names and style not in props:
        props.pop(key, None)
    elif key in names and key not in props:
        props.pop(style, None)
    elif style in names and key not in names and "rgbColor" in props.get(style, {}):
        props[key] = props[style]["rgbColor"]
