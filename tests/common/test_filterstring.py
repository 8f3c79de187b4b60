import pytest

from common.filterstring import FilterSyntaxError, parse_filter


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("   ", {}),
        ("period:this_year", {"period": ["this_year"]}),
        (
            "period:this_year,state:open|non_billable",
            {"period": ["this_year"], "state": ["open", "non_billable"]},
        ),
        (
            " period : this_year ,  state: open | non_billable ",
            {"period": ["this_year"], "state": ["open", "non_billable"]},
        ),
        ("period:202101..202103", {"period": ["202101..202103"]}),
        ("contact_id:12,project_id:7|8", {"contact_id": ["12"], "project_id": ["7", "8"]}),
        ("key2:x", {"key2": ["x"]}),
        # Only the first colon separates key and value.
        ("q:a:b", {"q": ["a:b"]}),
        ("q:a:b|c:d", {"q": ["a:b", "c:d"]}),
        ("day:2021-03-01", {"day": ["2021-03-01"]}),
    ],
)
def test_parse_filter(text: str, expected: dict[str, list[str]]) -> None:
    assert parse_filter(text) == expected


def test_parse_filter_keeps_written_order() -> None:
    result = parse_filter("state:open|all,period:this_month,contact_id:1")

    assert list(result) == ["state", "period", "contact_id"]
    assert result["state"] == ["open", "all"]


@pytest.mark.parametrize(
    ("text", "term", "message"),
    [
        ("period", "period", "expected key:value"),
        ("period:this_year,state", "state", "expected key:value"),
        ("period:this_year, state ", "state", "expected key:value"),
        (":open", ":open", "empty key"),
        ("  :open", ":open", "empty key"),
        ("State:open", "State:open", "key must be lower-case"),
        ("2state:open", "2state:open", "key must be lower-case"),
        ("_state:open", "_state:open", "key must be lower-case"),
        ("sta-te:open", "sta-te:open", "key must be lower-case"),
        ("sta te:open", "sta te:open", "key must be lower-case"),
        ("state:", "state:", "empty value"),
        ("state:   ", "state:", "empty value"),
        ("state:open|", "state:open|", "empty alternative"),
        ("state:|open", "state:|open", "empty alternative"),
        ("state:open||closed", "state:open||closed", "empty alternative"),
        ("state:open| ", "state:open|", "empty alternative"),
        ("state:open,state:closed", "state:closed", "key 'state' is given more than once"),
        ("state:open,period:this_year,state:open", "state:open", "more than once"),
        ("a:b,", "", "empty term"),
        (",a:b", "", "empty term"),
        ("a:b,,c:d", "", "empty term"),
        ("a:b, ,c:d", "", "empty term"),
    ],
)
def test_parse_filter_rejects(text: str, term: str, message: str) -> None:
    with pytest.raises(FilterSyntaxError) as exc_info:
        parse_filter(text)

    exc = exc_info.value
    assert exc.term == term
    assert message in exc.message
    assert str(exc) == f"Invalid filter term {term!r} ({exc.message})"


def test_filter_syntax_error_message() -> None:
    with pytest.raises(FilterSyntaxError) as exc_info:
        parse_filter("period")

    assert str(exc_info.value) == "Invalid filter term 'period' (expected key:value)"
    assert isinstance(exc_info.value, ValueError)
