"""The throwaway PostgreSQL server the console's tests use (tests/postgres_fixtures.py)."""

from __future__ import annotations

import sqlalchemy as sa


def test_the_server_answers_and_each_test_database_starts_empty(
    postgres_url: str, fresh_postgres_database: str
) -> None:
    for url in (postgres_url, fresh_postgres_database):
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(sa.text("select 1")).scalar_one() == 1
                tables = conn.execute(
                    sa.text("select count(*) from pg_tables where schemaname = 'public'")
                ).scalar_one()
        finally:
            engine.dispose()
        assert tables == 0
    assert postgres_url != fresh_postgres_database
