"""Moneybird's administrations, users, contacts and projects, one module each."""

from administrations.api.moneybird import administrations, contacts, projects, users

urlpatterns = [
    *administrations.urlpatterns,
    *users.urlpatterns,
    *contacts.urlpatterns,
    *projects.urlpatterns,
]
