"""PostgreSQL persistence: connections, migrations, bulk load, repositories, backup and restore (asyncpg)."""
