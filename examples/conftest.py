"""The examples share the Python client's `albsim` fixture (clients/python)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "clients", "python"))
from albsim_fixture import albsim  # noqa: E402,F401
