"""Moneybird /api/v2 projects endpoints."""

urlpatterns: list = []
