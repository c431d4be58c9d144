"""What a person should know about what they gave, as data: a code, its values, and the wording
the command line and library callers get (``str``). Each surface may word a code its own way (the
add-on has no --snap to name, for one); the values are there so it need not parse the text. Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# The codes, and the values each carries.
CHARACTERS_REMOVED = "characters_removed"  # field, count ("a control character"), removed
DUE_NOT_BUSINESS_DAY = "due_not_business_day"  # due, day ("a Saturday", "Christmas Day (US)"), next
DUE_MOVED = "due_moved"  # due, day, next: moved there (snap)
DUE_BEFORE_DEPENDENCY = "due_before_dependency"  # due, step, step_due
AUDIT_QUEUED = "audit_queued"  # the write stands; its audit entry waits for the store


@dataclass(frozen=True)
class Notice:
    code: str
    text: str  # the default wording, as the command line says it
    values: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return self.text

    def value(self, name: str) -> str:
        return dict(self.values).get(name, "")


def notice(code: str, text: str, **values: object) -> Notice:
    return Notice(code, text, tuple((k, str(v)) for k, v in values.items()))


def teller(on_warning: Callable[[str], None] | None,
           on_notice: Callable[[Notice], None] | None) -> Callable[[Notice], None]:
    """One callback for code that says notices: each goes to ``on_notice`` if given, else its text
    to ``on_warning`` (the library's old string callback), else nowhere."""
    def tell(said: Notice) -> None:
        if on_notice is not None:
            on_notice(said)
        elif on_warning is not None:
            on_warning(str(said))

    return tell
