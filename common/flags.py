"""The one vocabulary for boolean flags in query strings and bodies (`include_archived`,
`include_inactive`, `atomic`, a filter's `archived:`...).

True: `true`, `1`, `yes`; false: `false`, `0`, `no`; case-insensitive, surrounding spaces
ignored. Absent or empty means the flag's default. A JSON body may also give `true`/`false`.
Anything else is refused (a 400 in the dialect's shape), never silently read as false: a client
that writes `include_archived=on` should learn that it is not understood."""

TRUE = frozenset({"true", "1", "yes"})
FALSE = frozenset({"false", "0", "no"})
EXPECTED = "true or false"


def parse_flag(value: object, *, default: bool = False) -> bool:
    """The flag `value` gives; `default` when absent or empty. ValueError when it is none."""
    if isinstance(value, bool):
        return value
    if value is None:
        return default
    text = str(value).strip().lower()
    if text == "":
        return default
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"{value!r} is not a flag: expected {EXPECTED}")
