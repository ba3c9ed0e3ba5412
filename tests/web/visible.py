"""The text a person sees on a page (text nodes outside scripts and styles, not attributes), and the
marks of things that should never be seen there: raw codes, object reprs, JSON, message ids."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _Text(HTMLParser):
    SKIP = frozenset({"script", "style", "template", "datalist", "textarea"})
    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # open elements: (tag, hidden from this check)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        # "code-ref": codes a person has to type elsewhere (API scopes, JSON keys), shown on purpose
        self.stack.append((tag, tag in self.SKIP or "code-ref" in classes))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if data.strip() and not any(hidden for _, hidden in self.stack):
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    """The page's text nodes, in order."""
    parser = _Text()
    parser.feed(html)
    return parser.parts


SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
REPR = re.compile(r"<[a-z_.]+ [^>]* at 0x[0-9a-f]+>|\bat 0x[0-9a-f]{6,}\b|<built-in ")
JSON_LIKE = re.compile(r'[{\[]\s*"[a-z_]+"\s*:|\\u00[0-9a-f]{2}')
DOTTED_CODE = re.compile(r"\b[a-z]+\.[a-z_]+(?:\.[a-z_]+)*\b")


def raw_marks(texts: list[str], *, codes: tuple[str, ...] = ()) -> list[str]:
    """Text nodes that show a snake_case code, an object repr, raw JSON, a dotted code
    (``auth.login``) or one of CODES as a whole text node."""
    found = []
    for t in texts:
        if SNAKE.search(t) or REPR.search(t) or JSON_LIKE.search(t) or DOTTED_CODE.fullmatch(t) or t in codes:
            found.append(t)
    return found
