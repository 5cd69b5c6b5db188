"""The little Markdown that task descriptions use (## headings, - lists, `code`, **bold**),
rendered safely: every character of the text is escaped first, then only these marks become tags."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

__all__ = ["render_markdown"]

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def _inline(text: str) -> str:
    html = str(escape(text))
    html = _CODE.sub(r"<code>\1</code>", html)
    return _BOLD.sub(r"<strong>\1</strong>", html)


def render_markdown(text: str, heading_base: int = 3) -> Markup:
    """Paragraphs, headings (shifted to start at h`heading_base`), nested lists by indentation."""
    out: list[str] = []
    paragraph: list[str] = []
    depth = 0  # open <ul> levels

    def close_paragraph() -> None:
        if paragraph:
            out.append("<p>" + " ".join(_inline(p) for p in paragraph) + "</p>")
            paragraph.clear()

    def close_lists(to: int = 0) -> None:
        nonlocal depth
        while depth > to:
            out.append("</li></ul>")
            depth -= 1

    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.lstrip()
        if not stripped:
            close_paragraph()
            continue
        heading = re.match(r"(#{1,6})\s+(.*)", stripped)
        item = re.match(r"[-*]\s+(.*)", stripped)
        if heading:
            close_paragraph()
            close_lists()
            level = min(6, heading_base + len(heading.group(1)) - 2)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif item:
            close_paragraph()
            level = (len(line) - len(stripped)) // 2 + 1
            if level > depth:
                while depth < level:
                    out.append("<ul><li>")
                    depth += 1
            else:
                close_lists(level)
                out.append("</li><li>")
            out.append(_inline(item.group(1)))
        elif depth and raw.startswith(" "):
            out.append(" " + _inline(stripped))  # a list item's continued line
        else:
            close_lists()
            paragraph.append(stripped)
    close_paragraph()
    close_lists()
    return Markup("".join(out))
