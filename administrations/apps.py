from django.apps import AppConfig


class AdministrationsConfig(AppConfig):
    name = "administrations"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Administrations"
