"""A trigram index for `query=`, which searches descriptions with icontains
(UPPER(description) LIKE UPPER('%text%')): on PostgreSQL it finds the matching entries without
reading every entry of the administration. pg_trgm ships with PostgreSQL and is a trusted
extension (13+), so the database owner may create it. SQLite has no such index; there the search
stays a scan."""

from django.db import migrations

INDEX = "te_description_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON timeentries_timeentry "
        "USING gin (UPPER(description) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("timeentries", "0003_import_source_key")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
