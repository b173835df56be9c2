import pytest

from accounts.tests.factories import VerifiedUserFactory

from .factories import CollectorFactory


@pytest.fixture
def collector():
    return CollectorFactory()


@pytest.fixture
def customer(client):
    """A signed-in customer."""
    user = VerifiedUserFactory()
    client.force_login(user)
    return user
