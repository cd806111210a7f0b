"""Shared settings and strategies of the fuzz pass."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Bounded so the whole pass stays within a couple of minutes, also on PostgreSQL; derandomised
# so CI and a laptop try the same examples and a failure reproduces.
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
    database=None,
)

# Text a person might type or paste: accents, quotes, separators, control characters, NUL, emoji.
nasty = st.sampled_from(
    ["", " ", "\x00", "\t", "\r\n", ";", '"', "'", "=1+1", "<script>", "é", "Ⅻ", "🩺", "\u202e", "0", "-1",
     "1e309", "NaN", "99999999999999999999", "31/02/2024", "2024-13-01", "../../etc/passwd"]
)  # fmt: skip
text = st.one_of(nasty, st.text(max_size=40), st.text(st.characters(codec="utf-8"), max_size=300))
