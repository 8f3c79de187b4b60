"""Reading time entries out of other tools' exports.

One small module per source format turns a file's rows into `rows.ImportRow`s (or
`rows.RowError`s for rows it cannot read), lazily; `detect.open_import` picks the format and
streams a file through it; `runner.import_time_entries` feeds the rows in batches to the
service `timeentries.imports.engine.time_entries_import_batch`, which is what writes.
"""
