from django.apps import AppConfig


class TimeentriesConfig(AppConfig):
    name = "timeentries"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Time entries"
