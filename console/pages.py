"""The page (console/web/index.html, the same for every path: the JS draws the view),
its own static files and the charting library's files from node_modules.

Every page gets `<base href="{base}/">` (the JS uses relative URLs only) and a CSP
of `default-src 'self'`. Vendor files: `{base}/vendor/<package>/<file>` is
node_modules/<package>/dist/<file>, for the packages of package.json's
"dependencies" only.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from im import errors as E

WEB = Path(__file__).resolve().parent / "web"
CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"


def page(base_path: str, status: int = 200) -> Response:
    """index.html with its base (read on every call: the page is edited without restarts)."""
    html = (WEB / "index.html").read_text()
    tag = f'<base href="{base_path}/">'
    html = html.replace("<head>", f"<head>\n  {tag}", 1) if "<head>" in html else tag + html
    headers = {"content-security-policy": CSP, "cache-control": "no-store",
               "x-content-type-options": "nosniff", "referrer-policy": "same-origin"}  # fmt: skip
    return HTMLResponse(html, status, headers=headers)


def vendor_packages(web: Path = WEB) -> frozenset[str]:
    try:
        deps = json.loads((web / "package.json").read_text()).get("dependencies", {})
    except (OSError, ValueError):
        return frozenset()
    return frozenset(deps)


def _inside(folder: Path, rel: str) -> Path:
    """`folder/rel` if it is a file inside `folder`, else 404."""
    path = (folder / rel).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        raise E.ApiError(E.NOT_FOUND, "no such file", 404)
    return path


def static_file(request: Request) -> FileResponse:
    return FileResponse(_inside(WEB / "static", request.path_params["path"]),
                        headers={"x-content-type-options": "nosniff"})  # fmt: skip


def vendor_file(request: Request, packages: frozenset[str]) -> FileResponse:
    package = request.path_params["package"]
    if package not in packages:
        raise E.ApiError(E.NOT_FOUND, "no such package", 404)
    dist = WEB / "node_modules" / package / "dist"
    return FileResponse(_inside(dist, request.path_params["path"]),
                        headers={"x-content-type-options": "nosniff"})  # fmt: skip
