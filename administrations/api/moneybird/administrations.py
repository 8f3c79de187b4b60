"""Moneybird /api/v2 administrations endpoints."""

urlpatterns: list = []
