"""Field masks: the `fields` query parameter and the `fields` of update requests."""
from __future__ import annotations

Tree = dict  # {name: subtree}; an empty subtree selects the whole field


def parse(mask: str) -> Tree:
    """Parse 'a.b,c(d,e/f),g/h' into a nested dict tree."""
    pos = 0

    def parse_list(end: str | None) -> Tree:
        nonlocal pos
        tree: Tree = {}
        while pos < len(mask):
            ch = mask[pos]
            if ch == end:
                pos += 1
                return tree
            if ch in ", ":
                pos += 1
                continue
            path = []
            name = ""
            while pos < len(mask) and mask[pos] not in ",()":
                if mask[pos] in "./":
                    path.append(name)
                    name = ""
                else:
                    name += mask[pos]
                pos += 1
            path.append(name.strip())
            node = tree
            for p in path[:-1]:
                node = node.setdefault(p, {})
            leaf = node.setdefault(path[-1], {})
            if pos < len(mask) and mask[pos] == "(":
                pos += 1
                merge(leaf, parse_list(")"))
        return tree

    return parse_list(None)


def merge(a: Tree, b: Tree) -> None:
    for k, v in b.items():
        merge(a.setdefault(k, {}), v)


def apply(value, tree: Tree):
    """Keep only the selected fields; lists map over their items; '*' selects all."""
    if not tree or "*" in tree:
        return value
    if isinstance(value, list):
        return [apply(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for k, sub in tree.items():
        if k in value:
            v = apply(value[k], sub)
            if isinstance(v, list) and not v:
                continue
            out[k] = v
    return out


def paths(mask: str) -> list[list[str]]:
    """Flatten a mask into leaf paths (for update requests: 'gridProperties/rowCount,title')."""
    out: list[list[str]] = []

    def walk(t: Tree, prefix: list[str]) -> None:
        for k, sub in t.items():
            if sub:
                walk(sub, prefix + [k])
            else:
                out.append(prefix + [k])

    walk(parse(mask), [])
    return out


def copy_fields(target: dict, source: dict, mask: str, skip: tuple[str, ...] = ()) -> None:
    """Copy masked fields from source into target; a field absent in source is cleared."""
    if mask.strip() == "*":
        for k in list(target):
            if k not in skip:
                target.pop(k)
        for k, v in source.items():
            if k not in skip:
                target[k] = v
        return
    for path in paths(mask):
        if path[0] in skip:
            continue
        src, dst = source, target
        for p in path[:-1]:
            src = src.get(p, {}) if isinstance(src, dict) else {}
            dst = dst.setdefault(p, {})
        leaf = path[-1]
        val = prune_nulls(src.get(leaf)) if isinstance(src, dict) else None
        if val not in (None, {}, ""):  # proto3: empty means unset
            dst[leaf] = val
        else:
            dst.pop(leaf, None)


def prune_nulls(value):
    """Drop JSON nulls recursively (proto JSON: null means unset)."""
    if isinstance(value, dict):
        return {k: prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune_nulls(v) for v in value]
    return value
