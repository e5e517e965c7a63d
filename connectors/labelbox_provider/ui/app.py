"""The FastAPI app of the mirror's page; Airflow's authentication and authorization apply.

Every route except the nav icon asks Airflow for the user (``GetUserDep``: the ``_token`` cookie
or a Bearer JWT) and then asks the configured auth manager whether that user may read DAGs or
assets. Anonymous: 401 JSON for ``/api/...``, a redirect to the login page for HTML; an
invalid token or a user without the permission: 403.

* ``GET {prefix}/`` -- every project: watermark, freshness, gaps, pending exports, batches;
* ``GET {prefix}/projects/{id}?offset=N`` -- one project, its batches paginated;
* ``GET {prefix}/api/projects`` -- every project's summary as JSON;
* ``GET {prefix}/api/projects/{id}?offset=&limit=`` -- one project with a page of batches.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from labelbox_provider.ui import page
from labelbox_provider.ui.status import (
    MAX_PAGE,
    PageSettings,
    project_view,
    projects,
    read_ledger,
    summary,
)

URL_PREFIX = "/labelbox-mirror"  # where the api-server mounts the app
URL_ROUTE = "labelbox-mirror"  # the UI route of the nav entry: /plugin/labelbox-mirror


def may_read(user: Any) -> bool:
    """True if the configured auth manager lets ``user`` read DAGs or assets."""
    # Per request: plugins are mounted before the api-server initialises its auth manager.
    from airflow.api_fastapi.app import get_auth_manager

    manager = get_auth_manager()
    return bool(
        manager.is_authorized_dag(method="GET", user=user)
        or manager.is_authorized_asset(method="GET", user=user)
    )


def require_reader(user: GetUserDep) -> Any:
    """The logged-in user, if allowed to read DAGs or assets (else 403)."""
    if not may_read(user):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Forbidden: needs read access to DAGs or assets"
        )
    return user


Reader = Annotated[Any, Depends(require_reader)]


def _name(user: Any) -> str:
    return str(user.get_name())


def _now() -> datetime:
    return datetime.now(UTC)


def _known(settings: PageSettings, project_id: str) -> None:
    if project_id not in projects(settings):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no mirrored project {project_id!r}")


def build_app(prefix: str = URL_PREFIX) -> FastAPI:
    """The app; settings are read from the environment at each request."""
    app = FastAPI(title="Labelbox mirror", description=__doc__)
    base = prefix.rstrip("/") + "/"

    @app.exception_handler(HTTPException)
    async def login_redirect(request: Request, exc: HTTPException) -> Response:
        # A browser without a session is sent to the login page (and back); the API keeps 401.
        if exc.status_code == 401 and not request.url.path.startswith(f"{base}api/"):
            from airflow.api_fastapi.app import get_auth_manager

            back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(get_auth_manager().get_url_login(next_url=back), 307)
        return await http_exception_handler(request, exc)

    @app.get("/icon.svg", include_in_schema=False)
    def icon() -> Response:  # public: the nav bar loads it as an <img>; it holds no data
        return Response(page.ICON_SVG, media_type="image/svg+xml")

    @app.get("/api/projects")
    def api_projects(user: Reader) -> dict[str, Any]:
        settings, now = PageSettings.from_env(), _now()
        found = []
        for pid in projects(settings):
            ledger, state = read_ledger(settings, pid)
            found.append(summary(ledger, state, settings, now))
        return {"root": settings.location, "user": _name(user), "projects": found}

    @app.get("/api/projects/{project_id}")
    def api_project(
        project_id: str,
        user: Reader,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    ) -> dict[str, Any]:
        settings = PageSettings.from_env()
        _known(settings, project_id)
        return project_view(settings, project_id, _now(), offset, limit)

    @app.get("/", response_class=HTMLResponse)
    def index(user: Reader) -> str:
        settings, now = PageSettings.from_env(), _now()
        views = [
            project_view(settings, pid, now, 0, settings.batches_shown)
            for pid in projects(settings)
        ]
        return page.render(views, settings, _name(user), now, base)

    @app.get("/projects/{project_id}", response_class=HTMLResponse)
    def project_page(project_id: str, user: Reader, offset: Annotated[int, Query(ge=0)] = 0) -> str:
        settings, now = PageSettings.from_env(), _now()
        _known(settings, project_id)
        view = project_view(settings, project_id, now, offset, settings.batches_shown)
        return page.render([view], settings, _name(user), now, base)

    return app
