"""A page of a customer's list, or a 404."""

import pytest
from django.http import Http404

from cloudportal.core.pagination import page_or_404


def test_a_page_of_the_list():
    page = page_or_404(list(range(60)), per_page=25, number="2")
    assert list(page.object_list) == list(range(25, 50)) and page.has_next() and page.has_previous()
    assert list(page_or_404(list(range(60)), per_page=25, number=3).object_list) == list(range(50, 60))


def test_an_empty_list_has_an_empty_first_page():
    page = page_or_404([], per_page=25)
    assert list(page.object_list) == [] and not page.has_next()


@pytest.mark.parametrize("number", ["4", "0", "-1", "x", "", "1.5"])
def test_a_page_that_is_not_there_is_a_404(number):
    with pytest.raises(Http404):
        page_or_404(list(range(60)), per_page=25, number=number)
