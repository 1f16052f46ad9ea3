"""The database: typed models, engine and sessions, and the Alembic migrations shipped with the package."""
