"""MedBook's URLs plus the benchmark's "textbook" booking view (bench/textbook.py)."""

from django.urls import include, path

from bench import textbook

urlpatterns = [
    path("bench/textbook/book/<int:schedule_id>/", textbook.book, name="bench_textbook_book"),
    path("", include("medbook.urls")),
]

# As in medbook.urls: a database outage is a 503 with Retry-After, anything else a 500.
handler500 = "medbook.failures.server_error"
