"""A module's Markdown documents as a browser wants them: an HTML page, rendered on the server by
markdown-it-py (CommonMark, plus tables and strikethrough; raw HTML in a document is shown as text,
never run), styled by one inline stylesheet its content security policy names by hash, so the page
loads nothing and runs nothing, from any host."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

MARKDOWN = "text/markdown"
HTML = "text/html"

_STYLE = (
    "body{font-family:system-ui,sans-serif;line-height:1.5;max-width:50rem;margin:2rem auto;padding:0 1rem;"
    "color:#1f2328}code,pre{font-family:ui-monospace,monospace;background:#f6f8fa;border-radius:4px}"
    "code{padding:.1em .3em}pre{padding:1em;overflow:auto}pre code{padding:0}"
    "table{border-collapse:collapse}th,td{border:1px solid #d0d7de;padding:.3em .6em}"
    "nav{font-size:.9em;margin-bottom:1.5rem}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
"""Nothing but the page's own stylesheet and images of its own origin: no script runs, no other host is asked."""

_MEDIA_RANGE = re.compile(r"^\s*([^\s;]+)\s*(?:;(.*))?$")


@cache
def _renderer() -> MarkdownIt:
    # Imported with the first page rendered: most processes (the command line, a server nobody asks
    # for a page) render none, and the import costs every process starting the host about 25 ms.
    from markdown_it import MarkdownIt

    # markdown-it JS's defaults: CommonMark with tables and strikethrough, raw HTML escaped.
    return MarkdownIt("js-default")


def render_page(markdown: str, *, title: str, back: tuple[str, str] | None = None) -> str:
    """A complete HTML page of ``markdown``; ``back`` is a (URL, label) link shown above it."""
    body = _renderer().render(markdown)
    nav = f'<nav><a href="{html.escape(back[0])}">{html.escape(back[1])}</a></nav>\n' if back else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{nav}<main>\n{body}</main>\n"
        "</body>\n</html>\n"
    )


def title_of(markdown: str, default: str) -> str:
    """The document's first level-one heading, or ``default``."""
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip() or default
    return default


def _quality(parameters: str | None) -> float:
    for parameter in (parameters or "").split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def prefers_html(accept: str | None) -> bool:
    """Whether a request's ``Accept`` header ranks HTML above Markdown (RFC 9110, section 12.5.1).

    A browser sends ``text/html,...,*/*;q=0.8`` and gets the rendered page; ``curl`` (``*/*``), a
    script with no ``Accept``, or one that asks for ``text/markdown`` gets the Markdown, which is
    what the documents are. Written here, not taken from a library: the rule is these few lines, and
    the web frameworks that parse ``Accept`` (werkzeug, django) are not worth a dependency for it.
    """
    if not accept:
        return False
    best = {MARKDOWN: (-1.0, -1), HTML: (-1.0, -1)}  # (quality, specificity) of the most specific match
    for media_range in accept.split(","):
        match = _MEDIA_RANGE.match(media_range)
        if match is None:
            continue
        kind, quality = match.group(1).lower(), _quality(match.group(2))
        for media_type in best:
            if kind == media_type:
                specificity = 2
            elif kind == media_type.split("/")[0] + "/*":
                specificity = 1
            elif kind == "*/*":
                specificity = 0
            else:
                continue
            if specificity > best[media_type][1]:
                best[media_type] = (quality, specificity)
    return best[HTML][0] > 0 and best[HTML][0] > best[MARKDOWN][0]
