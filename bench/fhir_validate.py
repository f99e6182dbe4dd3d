"""Every FHIR resource a running MedBook serves, read over HTTP and parsed as FHIR R4.

    python3 dev.py run &                     # the demo clinic on http://127.0.0.1:8000/
    .venv/bin/python bench/fhir_validate.py [--base URL] [--pages N] [--reads N]

Logs in through the API as the demo's clinic admin (password from var/demo-accounts.json, code from
``manage.py demo_totp_code``) and as one demo member, then for each resource type runs the searches
the CapabilityStatement offers (by date, patient, practitioner, schedule, status …), follows
each Bundle's ``next`` links (up to ``--pages`` pages of 100), reads up to ``--reads`` of the
resources found by id, and parses every resource with the models of ``fhir.resources`` (R4B:
8.x ships no 4.0.1 package, and the R4B models of these resources are R4's). It also reads
five patients of other members with the member's token (404 each). Exits 1 on any invalid
resource, any answer other than 200 (a 429 of the rate limit is waited out and asked
again), or anything of another member. Results: bench/README.md.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import requests
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parent.parent


def demo_code(username: str) -> str:
    """The demo login's authenticator code now (``manage.py demo_totp_code``)."""
    done = subprocess.run(
        [sys.executable, "manage.py", "demo_totp_code", username],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


class Reader:
    """GETs under /fhir/ with one bearer token; counts and validates what comes back."""

    def __init__(self, base: str, token: str, label: str) -> None:
        self.base, self.label = base.rstrip("/"), label
        self.http = requests.Session()
        self.http.headers.update(
            {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
        )
        self.valid: collections.Counter[str] = collections.Counter()
        self.invalid: list[str] = []
        self.requests = 0
        self.seen: dict[str, set[str]] = collections.defaultdict(set)

    def get(self, url: str, params: dict | None = None) -> dict:
        if not url.startswith("http"):
            url = f"{self.base}/fhir/{url}"
        answer = self.http.get(url, params=params, timeout=30)
        self.requests += 1
        while answer.status_code == 429:  # the API's rate limit: wait as it says, ask again
            time.sleep(float(answer.headers.get("Retry-After", "1")))
            answer = self.http.get(url, params=params, timeout=30)
            self.requests += 1
        if answer.status_code != 200:
            self.invalid.append(f"{self.label} {answer.url}: HTTP {answer.status_code}")
            return {}
        body = answer.json()
        self.check(body, where=answer.url)
        return body

    def check(self, resource: dict, *, where: str) -> None:
        kind = resource.get("resourceType", "?")
        try:
            get_fhir_model_class(kind).model_validate(resource)
        except (KeyError, ValidationError) as error:
            self.invalid.append(f"{self.label} {where}: {kind} {error}")
            return
        self.valid[kind] += 1
        for entry in resource.get("entry", []) if kind == "Bundle" else []:
            inner = entry["resource"]
            self.seen[inner["resourceType"]].add(inner["id"])
            self.check(inner, where=entry.get("fullUrl", where))

    def search(self, kind: str, params: dict, *, pages: int) -> list[dict]:
        """Every page of a search (up to ``pages``); the resources found."""
        found: list[dict] = []
        body = self.get(kind, {**params, "_count": 100})
        for _ in range(pages):
            found += [entry["resource"] for entry in body.get("entry", [])]
            following = [link["url"] for link in body.get("link", []) if link["relation"] == "next"]
            if not following:
                break
            body = self.get(following[0])
        return found


def log_in(base: str, login: str, password: str, otp: str = "") -> str:
    body = {"login": login, "password": password, **({"otp": otp} if otp else {})}
    answer = requests.post(f"{base}/api/v1/auth/token/", json=body, timeout=30)
    answer.raise_for_status()
    return answer.json()["access"]


def walk(reader: Reader, *, pages: int, reads: int, today: dt.date) -> None:
    """The searches of the CapabilityStatement, then reads by id of what they found."""
    week = (today - dt.timedelta(days=7)).isoformat()
    reader.get("metadata")
    patients = reader.search("Patient", {}, pages=pages)
    practitioners = reader.search("Practitioner", {}, pages=pages)
    for practitioner in practitioners[:3]:
        reference = f"Practitioner/{practitioner['id']}"
        schedules = reader.search("Schedule", {"actor": reference}, pages=pages)
        reader.search("Schedule", {"actor": reference, "date": f"ge{today}"}, pages=pages)
        reader.search("Appointment", {"practitioner": reference, "date": f"ge{week}"}, pages=pages)
        for schedule in schedules[:3]:
            reader.search("Slot", {"schedule": f"Schedule/{schedule['id']}"}, pages=pages)
            reader.search(
                "Slot", {"schedule": f"Schedule/{schedule['id']}", "status": "free"}, pages=pages
            )
    reader.search("Schedule", {"date": today.isoformat()}, pages=pages)
    reader.search("Appointment", {"date": today.isoformat()}, pages=pages)
    reader.search("Appointment", {"status": "fulfilled", "date": f"ge{week}"}, pages=pages)
    reader.search("Encounter", {"date": f"ge{week}"}, pages=pages)
    reader.search("Condition", {"recorded-date": f"ge{week}"}, pages=pages)
    for patient in patients[:5]:
        reference = f"Patient/{patient['id']}"
        reader.search("Appointment", {"patient": reference}, pages=pages)
        encounters = reader.search("Encounter", {"patient": reference}, pages=pages)
        reader.search("Condition", {"patient": reference}, pages=pages)
        for encounter in encounters[:2]:
            reader.search("Condition", {"encounter": f"Encounter/{encounter['id']}"}, pages=pages)
    for kind in ("Patient", "Practitioner", "Schedule", "Slot", "Appointment", "Encounter"):
        for resource_id in sorted(reader.seen[kind])[:reads]:
            reader.get(f"{kind}/{resource_id}")
    for resource_id in sorted(reader.seen["Condition"])[:reads]:
        reader.get(f"Condition/{resource_id}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--accounts", default=str(ROOT / "var" / "demo-accounts.json"))
    parser.add_argument("--staff", default="clinicadmin")
    parser.add_argument("--member", default="13800000000")
    parser.add_argument("--member-password", default="medbook123")
    parser.add_argument("--pages", type=int, default=5, help="pages of 100 per search")
    parser.add_argument("--reads", type=int, default=20, help="reads by id per resource type")
    args = parser.parse_args()
    accounts = json.loads(Path(args.accounts).read_text())
    base = args.base.rstrip("/")
    today = dt.date.fromisoformat(
        requests.get(f"{base}/fhir/metadata", timeout=30).json()["date"][:10]
    )
    started = time.monotonic()
    staff_token = log_in(base, args.staff, accounts[args.staff], demo_code(args.staff))
    staff = Reader(base, staff_token, "staff")
    walk(staff, pages=args.pages, reads=args.reads, today=today)
    member = Reader(base, log_in(base, args.member, args.member_password), "member")
    walk(member, pages=args.pages, reads=args.reads, today=today)
    own = member.seen["Patient"]
    if not own:
        member.invalid.append("member: no patient of their own found")
    for resource_id in sorted(staff.seen["Patient"] - own)[:5]:  # another member's patients
        answer = member.http.get(f"{base}/fhir/Patient/{resource_id}", timeout=30)
        while answer.status_code == 429:
            time.sleep(float(answer.headers.get("Retry-After", "1")))
            answer = member.http.get(f"{base}/fhir/Patient/{resource_id}", timeout=30)
        if answer.status_code != 404:
            member.invalid.append(f"member read Patient/{resource_id}: {answer.status_code}")
    elapsed = time.monotonic() - started

    kinds = sorted(set(staff.valid) | set(member.valid))
    print(f"| reader | requests | {' | '.join(kinds)} | invalid |")
    print(f"|---|---|{'---|' * len(kinds)}---|")
    for reader in (staff, member):
        counts = " | ".join(str(reader.valid[kind]) for kind in kinds)
        print(f"| {reader.label} | {reader.requests} | {counts} | {len(reader.invalid)} |")
    print(f"\n{staff.requests + member.requests} requests in {elapsed:.1f} s")
    problems = staff.invalid + member.invalid
    for problem in problems[:20]:
        print("INVALID", problem[:500])
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
