"""Moneybird /api/v2 contacts endpoints."""

urlpatterns: list = []
