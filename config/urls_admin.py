"""The admin's URLconf (/admin/), imported on first use through config.urls.lazy_include: the
admin's modules are discovered here, not when the app registry loads (config/apps.py)."""

from django.contrib import admin

from config.apps import discover_admin

discover_admin()
urlpatterns = admin.site.get_urls()
