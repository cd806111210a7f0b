"""Loaded by pytest before Django (`-p medicen_portal.testing` in pyproject.toml).

Tests keep their files (SQLite, mail, embedded broker queue) apart from a developer's
running portal, and need a SECRET_KEY since DEBUG is off under test.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
os.environ.setdefault("VAR_DIR", str(BASE_DIR / "var" / "test"))
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-with-enough-length-and-entropy-0123456789")
