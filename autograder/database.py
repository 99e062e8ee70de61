"""The gradebook's database URL: checking it before anything is written, and keeping its password secret.

nbgrader keeps one course per database (its assignment names and students are global
there), so a cohort refuses a database that already holds another course's gradebook;
several cohorts share one PostgreSQL database through a schema each
(``?options=-csearch_path%3D<schema>``, see autograder/README.md).

A password in a URL is never printed: every message goes through ``redact``. Prefer a
URL without it, with libpq's ``PGPASSFILE`` (or ``~/.pgpass``) or ``PGPASSWORD``.
"""

from __future__ import annotations

import re

PASSWORD_IN_URL = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*):(?P<password>[^@\s]*)@")
CONNECT_TIMEOUT_S = 10
DRIVERS = {
    "postgresql": "psycopg (psycopg 3), a dependency of the course: `postgresql://` and `postgresql+psycopg://`",
    "postgresql+psycopg": "psycopg (psycopg 3), a dependency of the course",
    "postgresql+psycopg2": "psycopg2: `pip install psycopg2-binary` in the course's .venv, or write `postgresql://`",
}


class DatabaseError(RuntimeError):
    """The gradebook's database cannot be used (bad URL, missing driver, refused connection, another course)."""


def redact(text: str, db_url: str | None = None) -> str:
    """``text`` with the password of every URL in it (and of ``db_url``, wherever it appears) replaced by ***."""
    text = PASSWORD_IN_URL.sub(lambda m: f"{m['head']}:***@", str(text))
    password = url_password(db_url) if db_url else None
    return text.replace(password, "***") if password else text


def url_password(db_url: str) -> str | None:
    """The password written in ``db_url``, if any."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(db_url).password
    except (ArgumentError, ValueError):
        match = PASSWORD_IN_URL.search(db_url)
        return match["password"] if match else None


def connect_args(db_url: str) -> dict:
    """Driver options for a quick, bounded connection test."""
    return {"connect_timeout": CONNECT_TIMEOUT_S} if db_url.startswith("postgresql") else {}


def check_database(db_url: str, course_id: str) -> None:
    """Connect to ``db_url`` and make sure it can hold ``course_id``'s gradebook; DatabaseError says what is wrong.

    Nothing is written. A database that already holds nbgrader tables of another course is refused.
    """
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    shown = redact(db_url)
    try:
        url = make_url(db_url)
    except (ArgumentError, ValueError):
        raise DatabaseError(f"{shown} is not a database URL: write e.g. postgresql://user@host/dbname "
                            "(password in PGPASSFILE or PGPASSWORD) or sqlite:////path/to/gradebook.db") from None
    try:
        engine = create_engine(url, connect_args=connect_args(db_url))
    except (NoSuchModuleError, ImportError) as error:
        driver = DRIVERS.get(url.drivername, f"the driver for {url.drivername!r}")
        raise DatabaseError(f"cannot use {shown}: its database driver is not installed ({redact(error, db_url)}); "
                            f"it needs {driver}") from None
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            if connection.dialect.name == "postgresql" and connection.execute(
                    text("SELECT current_schema()")).scalar() is None:
                raise DatabaseError(f"{shown}: none of the schemas in its search_path exists: create it first "
                                    "(CREATE SCHEMA <schema>)")
            if inspect(connection).has_table("course"):
                others = [row[0] for row in connection.execute(text("SELECT id FROM course"))
                          if row[0] != course_id]
                if others:
                    raise DatabaseError(
                        f"{shown} already holds the nbgrader gradebook of course {others[0]!r}: nbgrader keeps one "
                        "course per database (assignment names are unique in it). Use another database, or give "
                        "this cohort a PostgreSQL schema of its own: append ?options=-csearch_path%3D<schema> to "
                        "the URL after `CREATE SCHEMA <schema>`")
    except DatabaseError:
        raise
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        raise DatabaseError(f"cannot connect to {shown}: {redact(reason[0] if reason else error, db_url)}. "
                            "Check the host, port, database name, user and password (PGPASSFILE/PGPASSWORD)"
                            ) from None
    finally:
        engine.dispose()
