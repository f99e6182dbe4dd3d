"""Settings of the HTTP release benchmark (bench/release_http.py): MedBook's own settings, read
from the environment as in production, plus a URLconf that adds the "textbook" booking view the
benchmark compares MedBook with. Only the benchmark uses this module; no application module
imports anything from bench/.
"""

from medbook.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
