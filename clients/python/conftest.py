"""pytest fixture: `albsim`, a running `albsim serve` (free ports, stopped after the test).
Tests elsewhere can use it with `pytest -p albsim_fixture` or by importing it in a conftest."""
from albsim_fixture import albsim  # noqa: F401
