"""Password hashing: Argon2id with OWASP's recommended parameters.

Django's default (PBKDF2-SHA256, 1,000,000 iterations) took ~0.5 s of CPU per login on this
machine and ~1 s under load, and a member's login hashed twice (below): logins took 1.8–2.6 s.
Argon2id is memory-hard, so a guessing rig pays in memory what we don't pay in time: OWASP's
Password Storage Cheat Sheet gives m = 19 MiB, t = 2, p = 1 as its first recommended setting
(~40 ms here, 19 MiB per login being checked). Hashes of other parameters or of PBKDF2 still
verify and are re-hashed with these on the member's next login (``must_update``).
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class ClinicArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
