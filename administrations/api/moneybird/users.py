"""Moneybird /api/v2 users endpoints."""

urlpatterns: list = []
