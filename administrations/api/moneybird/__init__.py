"""Moneybird's administrations, users, contacts (and their people) and projects, one module
each."""

from administrations.api.moneybird import (
    administrations,
    contact_people,
    contacts,
    projects,
    users,
)

urlpatterns = [
    *administrations.urlpatterns,
    *users.urlpatterns,
    *contacts.urlpatterns,
    *contact_people.urlpatterns,
    *projects.urlpatterns,
]
