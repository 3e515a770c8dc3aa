"""Alembic environment: the database comes from HueGIS settings, the schema from geo.models."""

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool

from geo.models import Base
from geo.schema import include_object
from geo.settings import get_settings

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.attributes.get("url") or get_settings().sqlalchemy_url()
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # PostGIS owns spatial_ref_sys and its own indexes; GeoAlchemy2 knows which.
            include_object=include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported; run against a database")
run_migrations_online()
