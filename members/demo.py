"""The embedded demo's shared member password (seeded data only, never in production)."""

DEMO_MEMBER_PASSWORD = "medbook123"  # noqa: S105 - documented demo password
