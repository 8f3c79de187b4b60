from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"

    def ready(self) -> None:
        # After every app's admin module registered its models (the admin's own ready()).
        from common.admin import tuck_away_internals

        tuck_away_internals()
