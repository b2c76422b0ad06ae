"""The `albsim` pytest fixture: an `albsim serve` on free ports for one test."""
import pytest

from albsim_admin import AlbsimServer


@pytest.fixture
def albsim():
    with AlbsimServer() as server:
        yield server
