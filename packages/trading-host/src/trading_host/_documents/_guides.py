"""Module documents (CHANGELOGs, migration guides) served at ``/docs/{module}/{name}``.

Each module ships its documents inside its own package (``Module.docs_folder()``, by default the
package's ``docs`` folder), so they are in its wheel and match the release installed. The host
serves the folder of every served module; ``/docs/broker/migration-v1-to-v2`` is the file
``migration-v1-to-v2.md`` of broker's folder. A browser gets a Markdown document rendered as an
HTML page (``_render.py``); a client that asks for Markdown, or for anything, gets the Markdown.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping
from importlib.resources.abc import Traversable
from typing import Any

from starlette.datastructures import Headers, URLPath
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from .._asgi import route_path
from ._render import CONTENT_SECURITY_POLICY, MARKDOWN, prefers_html, render_page, title_of

DOCS_PATH = "/docs"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Python's mimetypes table does not know Markdown before 3.13 (RFC 7763 registered text/markdown).
_MEDIA_TYPES = {".md": MARKDOWN, ".markdown": MARKDOWN}


def document_url(module: str, name: str) -> str:
    return f"{DOCS_PATH}/{module}/{name}"


def parse_document_url(url: str) -> tuple[str, str] | None:
    """``(module, name)`` of a ``/docs/<module>/<name>`` path; ``None`` for any other URL."""
    if not url.startswith(DOCS_PATH + "/"):
        return None
    module, _, name = url[len(DOCS_PATH) + 1 :].partition("/")
    return (module, name) if module and name else None


def find_document(folder: Traversable, name: str) -> Traversable | None:
    """The file ``name`` (or ``name.md``) directly in ``folder``; nothing outside it, no sub-folder."""
    if not _NAME.match(name):
        return None
    for candidate in (name, f"{name}.md"):
        item = folder.joinpath(candidate)
        if item.is_file():
            return item
    return None


def document_names(folder: Traversable) -> list[str]:
    """The names under which the folder's documents are served (``.md`` left off)."""
    names = (item.name for item in folder.iterdir() if item.is_file() and _NAME.match(item.name))
    return sorted(name.removesuffix(".md") for name in names)


def _page(markdown: str, title: str, back: tuple[str, str] | None = None) -> Response:
    page = HTMLResponse(render_page(markdown, title=title, back=back))
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page


def _media_type(name: str) -> str:
    suffix = name[name.rfind(".") :] if "." in name else ""
    media_type = _MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "text/plain"
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type


class ModuleDocuments(BaseRoute):
    """Answers ``GET /docs/{module}/{name}`` from the module's documents folder, and
    ``GET /docs/{module}/`` with the list of its documents. Paths of modules it does not serve are
    left to the routes after it."""

    def __init__(self, folders: Mapping[str, Traversable]) -> None:
        self._folders = dict(folders)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path = route_path(scope)
        if not path.startswith(DOCS_PATH + "/"):
            return Match.NONE, {}
        module, _, name = path[len(DOCS_PATH) + 1 :].partition("/")
        if module not in self._folders or "/" in name:
            return Match.NONE, {}
        return Match.FULL, {"path_params": {"module": module, "name": name}}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = scope["path_params"]
        module, name = params["module"], params["name"]
        folder = self._folders[module]
        response: Response
        if scope["method"] not in ("GET", "HEAD"):
            response = JSONResponse({"detail": "method not allowed"}, status_code=405, headers={"Allow": "GET, HEAD"})
        elif not name:
            root = scope.get("root_path", "")
            documents = [{"name": n, "url": root + document_url(module, n)} for n in document_names(folder)]
            if prefers_html(Headers(scope=scope).get("accept")):
                items = "\n".join(f"- [{d['name']}]({d['url']})" for d in documents) or "No documents."
                response = _page(f"# Documents of the {module} module\n\n{items}\n", f"{module}: documents")
            else:
                response = JSONResponse({"module": module, "documents": documents})
            response.headers["Vary"] = "Accept"
        else:
            found = find_document(folder, name)
            if found is None:
                served = ", ".join(document_names(folder)) or "none"
                response = JSONResponse(
                    {"detail": f"module {module} has no document {name!r}; it has: {served}"}, status_code=404
                )
            else:
                response = self._document(scope, module, found)
        await response(scope, receive, send)

    @staticmethod
    def _document(scope: Scope, module: str, found: Traversable) -> Response:
        """The document as it is, or, for a browser (``Accept`` ranking HTML above Markdown), a
        Markdown document rendered as an HTML page."""
        media_type = _media_type(found.name)
        if not media_type.startswith(MARKDOWN):
            return Response(found.read_bytes(), media_type=media_type)
        if not prefers_html(Headers(scope=scope).get("accept")):
            response = Response(found.read_bytes(), media_type=media_type)
        else:
            text = found.read_bytes().decode("utf-8", errors="replace")
            index = scope.get("root_path", "") + document_url(module, "")
            title = title_of(text, found.name)
            response = _page(text, f"{module}: {title}", back=(index, f"All documents of the {module} module"))
        response.headers["Vary"] = "Accept"
        return response

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)
