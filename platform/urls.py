"""Connection URLs: the administrative one (migrations) and the application's."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

DATABASE_NAME = "kizuna"
APP_LOGIN_ROLE = "kizuna_app"


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def app_url(admin_url: str, password: str | None) -> str:
    """The URL the request path logs in with: the unprivileged application role, with its
    own password (none: the server trusts local logins), never the administrative one."""
    admin = make_url(admin_url)
    url = URL.create(admin.drivername, APP_LOGIN_ROLE, password, admin.host, admin.port, admin.database, admin.query)
    return url.render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    """asyncpg takes plain `postgresql://` URLs, without a SQLAlchemy driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlalchemy_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
