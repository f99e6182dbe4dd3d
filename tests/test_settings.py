"""Settings come from the environment; production refuses to start without its secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], "
    "'cache': s.CACHES['default']['BACKEND'], "
    "'redis': s.CACHES.get('redis', {}).get('LOCATION'), "
    "'debug': s.DEBUG, 'broker': s.CELERY_BROKER_URL, "
    "'pool': 'pool' in s.DATABASES['default'].get('OPTIONS', {})}))"
)
SECRETS = ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY")


def run_with(tmp_path: Path, command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with a clean environment: only what the test gives, no inherited config."""
    inherited = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECURE_SSL_REDIRECT"}
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {*SECRETS, *inherited, "STATIC_MANIFEST"}
        and not key.startswith(("DJANGO_", "MEDBOOK_"))
    }
    clean.update(
        {"DJANGO_SETTINGS_MODULE": "medbook.settings", "MEDBOOK_VAR_DIR": str(tmp_path), **env}
    )
    return subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def settings_with(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_with(tmp_path, ["-c", PROBE], **env)


def test_the_embedded_default_needs_nothing_and_keeps_its_secrets_under_var(tmp_path) -> None:
    result = settings_with(tmp_path)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "engine": "django.db.backends.sqlite3",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "redis": None,
        "debug": True,
        "broker": "filesystem://",
        "pool": False,
    }
    secrets = json.loads((tmp_path / "secrets.json").read_text())
    assert set(secrets) == set(SECRETS)
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0


def test_production_refuses_to_start_without_its_secrets(tmp_path) -> None:
    result = settings_with(tmp_path, DATABASE_URL="postgres://medbook@db:5432/medbook")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    assert not (tmp_path / "secrets.json").exists()


def test_production_reads_services_and_secret_files_from_the_environment(tmp_path) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text("x" * 60)
    result = settings_with(
        tmp_path,
        DATABASE_URL="postgres://medbook@db:5432/medbook",
        REDIS_URL="redis://cache:6379/0",
        CELERY_BROKER_URL="amqp://guest:guest@mq:5672//",
        DJANGO_SECRET_KEY_FILE=str(key_file),
        FIELD_ENCRYPTION_KEYS="1:" + "A" * 43 + "=",
        BLIND_INDEX_KEY="B" * 43 + "=",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "engine": "medbook.postgresql",  # Django's, with a circuit breaker
        "cache": "medbook.cache.FailoverCache",  # Redis, with the database behind it
        "redis": "redis://cache:6379/0",
        "debug": False,
        "broker": "amqp://guest:guest@mq:5672//",
        "pool": True,
    }


def test_a_bad_value_is_named_in_the_error(tmp_path) -> None:
    result = settings_with(tmp_path, DJANGO_DEBUG="maybe")

    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false" in result.stderr


def test_bad_api_keys_stop_start_up_naming_the_setting(tmp_path) -> None:
    result = settings_with(tmp_path, MEDBOOK_API_JWT_KEYS="k1:c2hvcnQ=")
    assert result.returncode != 0
    assert "MEDBOOK_API_JWT_KEYS must be kid:base64key pairs" in result.stderr
    result = settings_with(tmp_path, MEDBOOK_API_JWT_ALGORITHM="none")
    assert result.returncode != 0
    assert "MEDBOOK_API_JWT_ALGORITHM must be HS256, HS384 or HS512" in result.stderr


def test_production_settings_pass_the_deployment_checks(tmp_path) -> None:
    result = run_with(
        tmp_path,
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DATABASE_URL="postgres://medbook@db:5432/medbook",
        DJANGO_SECRET_KEY="k" * 20 + "-production-like-secret-" + "z" * 20,
        FIELD_ENCRYPTION_KEYS="1:" + "A" * 43 + "=",
        BLIND_INDEX_KEY="B" * 43 + "=",
        ALLOWED_HOSTS="booking.clinic.example",
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_an_unconfigured_payment_gateway_is_refused(tmp_path) -> None:
    result = settings_with(tmp_path, MEDBOOK_PAYMENT_GATEWAY="alipay")

    assert result.returncode != 0
    assert "MEDBOOK_PAYMENT_GATEWAY='alipay' is not a configured gateway" in result.stderr


def test_production_cookies_are_host_only_secure_and_pages_carry_a_csp(tmp_path) -> None:
    probe = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.DEBUG, s.MEDBOOK_CSP]))"
    )
    result = run_with(
        tmp_path,
        ["-c", probe],
        DATABASE_URL="postgres://medbook@db:5432/medbook",
        DJANGO_SECRET_KEY="k" * 50,
        FIELD_ENCRYPTION_KEYS="1:" + "A" * 43 + "=",
        BLIND_INDEX_KEY="B" * 43 + "=",
    )
    assert result.returncode == 0, result.stderr
    session, csrf, session_secure, csrf_secure, hsts, debug, csp = json.loads(result.stdout)
    assert (session, csrf) == ("__Host-sessionid", "__Host-csrftoken")
    assert session_secure and csrf_secure and hsts >= 31536000 and not debug
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
