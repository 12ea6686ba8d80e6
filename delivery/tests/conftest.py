import pytest

from delivery.selectors import forget_directory


@pytest.fixture(autouse=True)
def _fresh_delivery_directory():
    """Each test sees its own zones: the stamps that would rebuild the directory are bumped only
    after a commit, which a test's transaction never reaches."""
    forget_directory()
    yield
    forget_directory()
