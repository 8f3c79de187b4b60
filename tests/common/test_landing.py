"""GET / answers a small page saying what this server is and linking onwards, instead of a 404."""

import re

import pytest


@pytest.mark.django_db
def test_the_landing_page_links_to_the_docs_the_admin_and_both_dialects(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode()
    assert "<title>Uurwerk</title>" in page
    links = set(re.findall(r'href="([^"]+)"', page))
    assert {"/api/docs/", "/api/redoc/", "/api/schema/", "/admin/"} <= links
    assert "http://testserver/api/v2/" in page
    assert "http://testserver/api/v1/" in page
    # Small, and every link it gives leads somewhere.
    assert len(response.content) < 4000
    for link in links:
        assert client.get(link).status_code in (200, 302), link


@pytest.mark.django_db
def test_the_landing_page_is_read_only(client):
    assert client.post("/").status_code == 405
    assert client.head("/").status_code == 200
