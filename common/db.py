"""Portable (SQLite and PostgreSQL) query expressions the ORM lacks, and a bulk insert faster
than bulk_create."""

import functools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import (
    Field,
    ForeignKey,
    Func,
    IntegerField,
    JSONField,
    Model,
    QuerySet,
)
from django.db.models.query import get_related_populators
from django.utils import timezone

_T = TypeVar("_T")


class JSONValue(Func):
    """A JSON column embedded as JSON (not as a string) inside a JSON object."""

    function = "json"
    arity = 1
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="%(expressions)s", **extra_context)


class JSONTextField(JSONField):
    """A JSON value the database hands back as text, read with orjson: the JSON aggregates of
    a record's events and notes (notes.selectors.ChildrenJSON) are the largest values an API
    read loads, and the json module took a tenth of an update's CPU parsing them. A value
    orjson refuses (an integer beyond 64 bits) is read by the json module, as before."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if isinstance(value, str | bytes):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
        return super().from_db_value(value, expression, connection)


def insert_rows(model: type[Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows given as {attname: value} with no model instances: bulk writes (imports)
    whose rows the caller has already validated. A field left out takes its default, an
    auto_now(_add) timestamp now, a field with a db_default the database's. On PostgreSQL one
    COPY in its text format, each row rendered to a line by a formatter chosen once per
    column: compiling SQL and adapting every parameter (bulk_create), or even psycopg's
    per-value adaptation in `write_row`, is what dominates a bulk write from Python. Elsewhere
    bulk_create. As with bulk_create, neither save() nor signals run."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**row) for row in rows])
        return
    now = timezone.now()
    # A column the database fills itself (db_default) is left to it unless the rows give it.
    fields = [
        field
        for field in model._meta.local_concrete_fields
        if not field.has_db_default() or field.attname in rows[0]
    ]
    columns = [(_copy_value(field, now), _copy_formatter(field)) for field in fields]
    quote = connection.ops.quote_name
    sql = "COPY {} ({}) FROM STDIN".format(
        quote(model._meta.db_table), ", ".join(quote(str(field.column)) for field in fields)
    )
    lines: list[str] = []
    size = 0
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            line = "\t".join(
                "\\N" if (value := get(row)) is None else render(value) for get, render in columns
            )
            lines.append(line)
            size += len(line)
            if size >= COPY_CHUNK:
                copy.write("\n".join(lines) + "\n")
                lines, size = [], 0
        if lines:
            copy.write("\n".join(lines) + "\n")


# Small enough that PostgreSQL starts on a batch while the rest of it is rendered.
COPY_CHUNK = 1 << 16
# COPY's text format: a backslash escapes; tab, newline and carriage return are separators.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: Any) -> str:
    """`value` as text in COPY's text format (backslash, tab, newline and CR escaped)."""
    text = str(value)
    # Most text has nothing to escape; two scans in C are cheaper than translate().
    return text.translate(_COPY_ESCAPES) if "\\" in text or not text.isprintable() else text


def _copy_timestamp() -> Callable[[datetime], str]:
    """isoformat() of an aware datetime, remembering the last one: a batch writes the same
    `now` into created_at and updated_at of every row."""
    last: list[Any] = [None, ""]

    def render(value: datetime) -> str:
        if value is not last[0]:
            last[0], last[1] = value, value.isoformat()
        return last[1]

    return render


def _copy_value(field: Field, now: datetime) -> Callable[[Mapping[str, Any]], Any]:
    """The field's value in a row: a field left out takes its default; an auto_now(_add)
    timestamp left out or None takes `now`, as save() would set it."""
    name = field.attname
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return lambda row: row.get(name) or now
    default = field.get_default()
    return lambda row: row.get(name, default)


def _copy_formatter(field: Field) -> Callable[[Any], str]:
    """How a non-null value of `field` is written in COPY's text format."""
    kind = field.get_internal_type()
    if kind == "BooleanField":
        return lambda value: "t" if value else "f"
    if kind in ("DateTimeField", "DateField", "TimeField"):
        return _copy_timestamp()
    if isinstance(field, JSONField):
        if field.encoder is None:
            # Non-string keys become strings, as json.dumps makes them.
            return lambda value: copy_text(
                orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
            )
        return lambda value: copy_text(json.dumps(value, cls=field.encoder))
    if kind in ("CharField", "TextField", "SlugField", "EmailField", "URLField"):
        return copy_text
    if isinstance(field, (IntegerField, ForeignKey)) or kind in ("AutoField", "BigAutoField"):
        return str
    return lambda value: copy_text(field.get_db_prep_save(value, connection))


# Field kinds whose Python values psycopg adapts as they are: Django's preparation of one only
# checks again the type a service has already given it.
_AS_IS = frozenset(
    {
        "BigIntegerField",
        "IntegerField",
        "PositiveIntegerField",
        "CharField",
        "TextField",
        "BooleanField",
        "DateTimeField",
        "ForeignKey",
    }
)
_PASSES: dict[Field, bool] = {}


def db_params(fields: Sequence[Field], instance: Model) -> list[Any]:
    """The values of `fields` of `instance` as query parameters, as save() prepares them
    (get_db_prep_save), for a statement written out once (a write of one row). On PostgreSQL a
    number, text, boolean, aware time or key passes as it is: preparing each of them through
    Django cost a write more than the rest of its statement's Python."""
    if connection.vendor != "postgresql":
        return [
            field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields
        ]
    params = []
    for field in fields:
        value = getattr(instance, field.attname)
        passes = _PASSES.get(field)
        if passes is None:
            passes = _PASSES[field] = field.get_internal_type() in _AS_IS
        params.append(value if passes else field.get_db_prep_save(value, connection))
    return params


def deferred_page(
    queryset: QuerySet, *, ordering: Sequence[str], offset: int, limit: int
) -> QuerySet:
    """One page of `queryset`, still one statement: the page's keys are found first (on the
    index), then only those rows are fetched, so whatever the caller annotates or joins onto the
    result (events, notes) is computed for the page and not for the rows an OFFSET skips."""
    keys = queryset.order_by(*ordering).values("pk")[offset : offset + limit]
    return queryset.model._default_manager.filter(pk__in=keys).order_by(*ordering)


class Prepared:
    """A queryset shape compiled to SQL once per database connection, then run with new values:
    compiling (building the query, resolving names, rendering the SQL) costs Django more than a
    hot read costs the database. `build(*values)` makes the queryset; it is called once with
    placeholder values of `kinds` ("str" or "int", one per value), which must reach the SQL as
    parameters unchanged, once or more (compared with `=`). Rows come back as `build`'s
    queryset would load them: model instances with their select_related rows and annotations.

    `lock_postgresql` is a locking clause the ORM cannot write (FOR KEY SHARE OF a table),
    appended to the SQL on PostgreSQL; other databases have no row locks."""

    def __init__(self, build: Callable[..., QuerySet], *kinds: str, lock_postgresql: str = ""):
        self.build = build
        self.lock_postgresql = lock_postgresql
        # Values no request sends: a string with a NUL, integers below any id.
        self.placeholders = tuple(
            -(2**62) - i if kind == "int" else f"\x00prepared:{id(self)}:{i}"
            for i, kind in enumerate(kinds)
        )
        # Per thread (as Django's connections are), so a thread's end frees its compilation.
        self.compiled = threading.local()

    def _compiled(self, using: str) -> tuple:
        wrapper = connections[using]
        # The SQL is the connection's vendor's; a thread's wrapper per alias is the same object.
        state = getattr(self.compiled, using, None)
        if state is None or state[0] is not wrapper:
            queryset = self.build(*self.placeholders)
            compiler = queryset.query.get_compiler(using=using)
            sql, params = compiler.as_sql()
            if self.lock_postgresql and wrapper.vendor == "postgresql":
                sql = f"{sql} {self.lock_postgresql}"
            slots = [self.placeholders.index(p) if p in self.placeholders else None for p in params]
            if {s for s in slots if s is not None} != set(range(len(self.placeholders))):
                raise ValueError("every placeholder must be a parameter of the SQL")
            klass_info, select, query = compiler.klass_info, compiler.select, queryset.query
            # What results_iter would look up for every row anew: a statement of a hundred
            # columns spent longer on that than on anything else of its run.
            converters = compiler.get_converters([s[0] for s in select[: compiler.col_count]])
            if query.values_select or klass_info is None:  # a values() queryset: dicts
                names = [*query.extra_select, *query.values_select, *query.annotation_select]
                state = (wrapper, compiler, sql, params, slots, converters, names, None, None)
            else:
                start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
                init_list = [f[0].target.attname for f in select[start:end]]
                # django-stubs describe a later Django, whose populators take a fetch_mode.
                populators = get_related_populators(klass_info, select, using)  # type: ignore[call-arg]
                span = (start, end)
                state = (
                    wrapper,
                    compiler,
                    sql,
                    params,
                    slots,
                    converters,
                    init_list,
                    span,
                    populators,
                )
            setattr(self.compiled, using, state)
        return state

    def first(
        self,
        *values: Any,
        using: str = DEFAULT_DB_ALIAS,
        before: tuple[str, Sequence[Any]] | None = None,
    ) -> Any:
        """The first row: a model instance, or a dict for a values() queryset; None if none.
        `before` is SQL and its parameters put in front of the statement, e.g. a WITH clause
        whose data-modifying statements run in the same round trip as this read."""
        _, compiler, sql, params, slots, converters, names, span, populators = self._compiled(using)
        bound = [p if s is None else values[s] for p, s in zip(params, slots, strict=True)]
        if before is None:
            cursor = server_cursor(using)
        else:
            # A write in front: its text varies with the changed columns, and its values (None
            # in a CASE among them) are typed by the client-side binding the writes were built on.
            sql, bound = f"{before[0]} {sql}", [*before[1], *bound]
            cursor = client_cursor(using)
        with cursor:
            cursor.execute(sql, bound)
            row = cursor.fetchone()
        if row is None:
            return None
        if converters:
            (row,) = compiler.apply_converters([row], converters)
        if span is None:
            return dict(zip(names, row, strict=True))
        start, end = span
        init_list = names
        obj = compiler.klass_info["model"].from_db(using, init_list, row[start:end])
        for populator in populators:
            populator.populate(row, obj)
        for name, position in compiler.annotation_col_map.items():
            setattr(obj, name, row[position])
        return obj


def checked_by_running(read: Callable[[], _T], using: str = DEFAULT_DB_ALIAS) -> _T:
    """Run `read`, a request's first statement (a read: running it twice is harmless), in
    place of Django's health check of a connection kept from an earlier request: the statement
    finds a broken connection just as well, even one that died without a word, which the
    check (common.postgresql: no round trip) cannot see. If it fails and the connection is no
    longer usable, the connection is closed and `read` runs once more on a new one, as after a
    failed check; any other failure is raised as it is."""
    # Any: django-stubs do not know the health check's attributes (new in Django 4.1).
    wrapper: Any = connections[using]
    if (
        wrapper.connection is None
        or wrapper.health_check_done
        or not wrapper.health_check_enabled
        or wrapper.in_atomic_block
    ):
        return read()
    wrapper.health_check_done = True
    try:
        return read()
    except DatabaseError:
        if wrapper.is_usable():
            raise
        wrapper.close()
    return read()


def timestamps_in_c(wrapper: Any, raw: Any) -> bool:
    """Load the timestamps of this psycopg cursor with psycopg's C loader (psycopg[binary])
    where it gives what Django's gives: Django loads them through a subclass of psycopg's
    pure-Python loader that only sets the connection's zone, and with USE_TZ that zone is
    datetime.timezone.utc, which the C loader sets itself when the session's zone is UTC.
    Parsing them took a tenth of an update's CPU. Django's own cursors keep Django's loader
    (they ask it for its zone, which a C loader has no attribute for). True when done."""
    if wrapper.vendor != "postgresql" or wrapper.timezone is not UTC:
        return False
    loader = _c_timestamptz_loader()
    if loader is None or raw.connection.info.parameter_status("TimeZone") != "UTC":
        return False
    raw.adapters.register_loader("timestamptz", loader)
    return True


@functools.cache
def _c_timestamptz_loader() -> Any:
    import psycopg
    from psycopg.pq import Format

    loader = psycopg.adapters.get_loader(psycopg.adapters.types["timestamptz"].oid, Format.TEXT)
    # psycopg without its C implementation has only the pure-Python one.
    return None if loader is None or loader.__module__.startswith("psycopg.") else loader


# A prepare_threshold no statement count reaches (see _run_prepared).
_NEVER = 2**62


def server_cursor(
    using: str = DEFAULT_DB_ALIAS, *, prepare: bool = True, binary: bool = False
) -> Any:
    """A cursor for statements whose text is the same on every run (Prepared, the hot reads of
    timeentries/rows.py). On PostgreSQL it binds values on the server (Django's cursors
    interpolate them into the text on the client) and prepares each text once per connection
    (Django turns psycopg's automatic preparing off): PostgreSQL then parses and analyses a
    statement once instead of on every request. Errors are translated as on Django's cursors.
    Elsewhere Django's cursor. Without `prepare` the statement is planned for its values on
    every run (see timeentries.rows.plans_per_run). With `binary` the rows come in PostgreSQL's
    binary format, for statements that read only types whose binary loaders give the values
    the text ones would (text, integers, booleans, floats): an integer then loads without
    parsing its digits, which cost ~700 instructions per value.

    One such cursor is kept per connection and used again (`with` leaves it open): making a
    psycopg cursor, with its adapters and the timestamp loader, and passing through Django's
    cursor wrappers took half the CPU of running a hot read's statement. When queries are
    logged (tests, the bench) or an execute wrapper is installed, each statement gets a new
    cursor wrapped as Django wraps its own, so it is logged (with its values in the text) and
    wrapped as before."""
    wrapper = connections[using]
    if wrapper.vendor != "postgresql":
        return wrapper.cursor()
    _connected(wrapper)
    if wrapper.queries_logged or wrapper.execute_wrappers:
        cursor = (_LoggedCursor if wrapper.queries_logged else _PreparingCursor)(
            _new_server_cursor(wrapper), wrapper
        )
        cursor.prepare, cursor.binary = prepare, binary
        return cursor
    kept = _kept(wrapper, "_kept_server_cursor", _new_server_cursor)
    kept.prepare, kept.binary = prepare, binary
    return kept


def client_cursor(using: str = DEFAULT_DB_ALIAS) -> Any:
    """Django's cursor (values bound on the client, into the statement's text) with timestamps
    loaded by psycopg's C loader where that gives Django's values (timestamps_in_c), for
    statements whose text varies (a write's). Kept per connection and used again as
    server_cursor's is, and like it a new wrapped cursor per statement when queries are logged
    or an execute wrapper is installed."""
    wrapper = connections[using]
    if wrapper.vendor != "postgresql" or wrapper.queries_logged or wrapper.execute_wrappers:
        cursor = wrapper.cursor()
        if wrapper.vendor == "postgresql":
            timestamps_in_c(wrapper, cursor.cursor)
        return cursor
    _connected(wrapper)
    return _kept(wrapper, "_kept_client_cursor", _new_client_cursor, client_side=True)


def _connected(wrapper: Any) -> None:
    """What Django's wrapper.cursor() does before it makes a cursor."""
    wrapper.close_if_health_check_failed()
    wrapper.ensure_connection()
    wrapper.validate_thread_sharing()


def _kept(
    wrapper: Any, name: str, make: Callable[[Any], Any], *, client_side: bool = False
) -> "_KeptCursor":
    """The cursor kept as `name` on the wrapper: per thread and alias, as Django's connections
    are, and made anew with the connection when Django has reconnected. It holds its last
    statement's result until the next one (a page's rows at most)."""
    kept = getattr(wrapper, name, None)
    if kept is None or kept.raw.connection is not wrapper.connection or kept.raw.closed:
        kept = _KeptCursor(wrapper, make(wrapper), client_side=client_side)
        setattr(wrapper, name, kept)
    return kept


def _new_client_cursor(wrapper: Any) -> Any:
    with wrapper.wrap_database_errors:
        raw = wrapper.create_cursor()  # Django's, as wrapper.cursor() makes it
    timestamps_in_c(wrapper, raw)
    return raw


def _new_server_cursor(wrapper: Any) -> Any:
    import psycopg  # loaded with the PostgreSQL backend already
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    connection = wrapper.connection
    with wrapper.wrap_database_errors:
        raw = psycopg.Cursor(connection)
    # As Django's create_cursor: timestamps load in the connection's zone.
    oid = psycopg.adapters.types["timestamptz"].oid
    if not timestamps_in_c(wrapper, raw) and (
        wrapper.timezone != connection.adapters.get_loader(oid, Format.TEXT).timezone
    ):
        register_tzloader(wrapper.timezone, raw)
    return raw


def _run_prepared(
    wrapper: Any, raw: Any, sql: str, params: Any, prepare: bool, binary: bool = False
) -> Any:
    wrapper.validate_no_broken_transaction()
    connection = raw.connection
    previous = connection.prepare_threshold
    with wrapper.wrap_database_errors:
        # Django opens connections with prepare_threshold=None, which refuses `prepare=True`
        # too. Lifted (out of reach of automatic preparing) for this statement only: with it
        # lifted, psycopg would also count, and keep the text of, every statement Django's
        # own cursors run (imports' too), up to a hundred of them.
        if previous is None:
            connection.prepare_threshold = _NEVER
        try:
            return raw.execute(sql, params, prepare=prepare, binary=binary)
        finally:
            connection.prepare_threshold = previous


class _KeptCursor:
    """A connection's kept cursor (server_cursor, client_cursor): execute and fetch, nothing
    else."""

    prepare = True
    binary = False

    def __init__(self, wrapper: Any, raw: Any, *, client_side: bool = False):
        self.db = wrapper
        self.raw = raw
        self.client_side = client_side

    def __enter__(self) -> "_KeptCursor":
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass  # kept open for the connection's next statement

    def execute(self, sql: str, params: Any = None) -> None:
        if not self.client_side:
            _run_prepared(self.db, self.raw, sql, params, self.prepare, self.binary)
            return
        # As Django's CursorWrapper runs a statement.
        self.db.validate_no_broken_transaction()
        with self.db.wrap_database_errors:
            if params is None:
                self.raw.execute(sql)
            else:
                self.raw.execute(sql, params)

    def fetchone(self) -> Any:
        with self.db.wrap_database_errors:
            return self.raw.fetchone()

    def fetchall(self) -> list[Any]:
        with self.db.wrap_database_errors:
            return self.raw.fetchall()


class _PreparingCursor(CursorWrapper):
    prepare = True
    binary = False

    def _execute(self, sql, params, *ignored_wrapper_args):
        return _run_prepared(self.db, self.cursor, sql, params, self.prepare, self.binary)


class _LoggedCursor(_PreparingCursor, CursorDebugWrapper):
    """Logs a statement with its values in the text, as Django's client-side cursors do (this
    cursor's last query has $1 placeholders instead), so that what a test or the bench captures
    can be read and explained."""

    def execute(self, sql, params=None):
        import psycopg

        shown = psycopg.ClientCursor(self.cursor.connection).mogrify(sql, params)
        with self.debug_sql(shown, params):
            return CursorWrapper.execute(self, sql, params)
