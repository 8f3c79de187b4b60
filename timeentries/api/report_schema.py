"""The report's answer as the OpenAPI documents describe it (documentation only: the views answer
what timeentries.reports builds). Both dialects share the shape and differ in names: Expensicat
says customer and counts `duration`, Moneybird says contact and counts `seconds`."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers


def _serializer(
    component: str, base: type[serializers.Serializer], fields: dict[str, serializers.Field]
) -> type[serializers.Serializer]:
    # type() runs DRF's serializer metaclass, which collects the declared fields.
    cls = type(component, (base,), fields)
    return extend_schema_serializer(component_name=component)(cls)


def report_output(
    prefix: str,
    *,
    seconds: str,
    seconds_help: str,
    billable_seconds: str,
    billable_help: str | None,
    contact: str,
) -> type[serializers.Serializer]:
    """The report's serializer and its parts, named `<prefix>Report...` in the components."""
    amount = _serializer(
        f"{prefix}ReportAmount",
        serializers.Serializer,
        {
            "currency": serializers.CharField(help_text="ISO 4217, the project's currency"),
            "amount": serializers.CharField(help_text="Billable hours x hourly rate, e.g. 1234.50"),
        },
    )
    totals = _serializer(
        f"{prefix}ReportTotals",
        serializers.Serializer,
        {
            "entries": serializers.IntegerField(),
            seconds: serializers.IntegerField(help_text=seconds_help),
            billable_seconds: serializers.IntegerField(help_text=billable_help),
            "amounts": amount(
                many=True,
                help_text="Per currency; entries without a project or rate count in none.",
            ),
        },
    )
    leaf = _serializer(
        f"{prefix}ReportLeafGroup",
        totals,
        {
            "key": serializers.JSONField(
                allow_null=True,
                help_text=f"project/user/{contact}: the id as a string, null for entries without "
                "one; billable: true or false; day and week (its first day): YYYY-MM-DD; month: "
                "YYYY-MM; year: YYYY.",
            ),
            "name": serializers.CharField(
                allow_null=True,
                help_text=f"The project's, user's or {contact}'s name; null otherwise.",
            ),
        },
    )
    group = _serializer(
        f"{prefix}ReportGroup",
        leaf,
        {
            "groups": leaf(
                many=True, required=False, help_text="By the second grouping, when there is one."
            )
        },
    )
    return _serializer(
        f"{prefix}Report",
        serializers.Serializer,
        {
            "totals": totals(),
            "groups": group(
                many=True, help_text="By the first grouping, sorted by key, null last."
            ),
        },
    )
