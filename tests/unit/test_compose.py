"""The production deployment (docker-compose.yml, Dockerfile, .dockerignore) held to the rules it depends on.

Docker cannot run where these tests run, so nothing here builds the image or starts a container: the tests
read the files. They check the services and how each waits for the others, the named volumes, where Temporal
persists, and above all that every setting of the application reaches the API and the worker (the fields are
read from `core.settings.Settings`, so a new one is caught) and that the environment the compose file gives
them makes production settings: no dev mode, the operator's secret, PostgreSQL, the stack's own Temporal.
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
APP_SERVICES = ("api", "worker")

# Settings that do not apply to a container deployment, each with the reason.
NOT_IN_CONTAINERS = {
    "temporal_ui_port": "the web UI port of the embedded Temporal dev server (`mediation run`); in the "
                        "compose stack the temporal-ui service serves the UI",
}

# What the operator must provide; every other variable the compose file reads has a default.
OPERATOR_SECRETS = {
    "MEDIATION_SECRET_KEY": "s" * 48,
    "POSTGRES_PASSWORD": "superuser-password",
    "APP_DB_PASSWORD": "application-password",
    "MEDIATION_S3_SECRET_KEY": "object-store-secret",
}
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PWD|PASSPHRASE|API_KEY")
FROM_THE_OPERATOR = re.compile(r"\$\{[A-Z_][A-Z0-9_]*(:?\?[^}]*)?\}")  # ${NAME}, ${NAME:?why}: no default


# ------------------------------------------------------------------------------ reading the files ------
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(Exception):
    pass


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """The value as Compose resolves it against the operator's environment: ${NAME}, ${NAME:-default},
    ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+other}, and $$ for a literal $."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        op, arg = match["op"] or "", match["arg"] or ""
        given = env.get(name)
        present = given is not None and (given != "" or not op.startswith(":"))
        if op.endswith("-"):
            return given if present else arg  # type: ignore[return-value]
        if op.endswith("?"):
            if not present:
                raise MissingVariable(f"{name}: {arg}")
            return given  # type: ignore[return-value]
        if op.endswith("+"):
            return arg if present else ""
        return given or ""

    return _VARIABLE.sub(one, value)


def environment(service: str) -> dict[str, str | None]:
    """A service's environment as written (mapping or list form). None: passed through from the operator's
    environment, and unset in the container when the operator has not set it."""
    env = SERVICES[service].get("environment") or {}
    if isinstance(env, list):
        return {key: (value if sep else None) for key, sep, value in (item.partition("=") for item in env)}
    return {key: None if value is None else str(value) for key, value in env.items()}


def container_environment(service: str, operator: Mapping[str, str]) -> dict[str, str]:
    """What the service's process sees when the operator has set `operator` and nothing else."""
    resolved = {}
    for key, value in environment(service).items():
        if value is not None:
            resolved[key] = interpolate(value, operator)
        elif key in operator:
            resolved[key] = operator[key]
    return resolved


def env_name(field: str) -> str:
    return f"MEDIATION_{field.upper()}"


def depends_on(service: str) -> dict[str, Any]:
    deps = SERVICES[service].get("depends_on") or {}
    assert isinstance(deps, dict), f"{service}: depends_on must be the long form, a condition for each"
    return deps


def healthcheck_command(service: str) -> str:
    test = SERVICES[service]["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else test


def volume_sources(service: str) -> dict[str, str]:
    """Mount target -> source (a named volume, or a path on the host)."""
    mounts = {}
    for volume in SERVICES[service].get("volumes") or []:
        if isinstance(volume, dict):
            mounts[volume["target"]] = volume.get("source", "")
        else:
            source, _, rest = volume.partition(":")
            mounts[rest.split(":")[0]] = source
    return mounts


def is_host_path(source: str) -> bool:
    return source.startswith((".", "/", "~"))


def host_file(service: str, target: str) -> Path:
    source = volume_sources(service)[target]
    assert is_host_path(source), f"{service}: {target} is not a file of the repository"
    return ROOT / source


def dockerfile(instruction: str) -> list[str]:
    """The arguments of each of the Dockerfile's `instruction`s, continuation lines joined."""
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    logical = re.sub(r"\\\n", " ", "\n".join(line for line in lines if not line.lstrip().startswith("#")))
    found = []
    for line in logical.splitlines():
        name, _, args = line.strip().partition(" ")
        if name.upper() == instruction:
            found.append(" ".join(args.split()))
    return found


def installed_from_the_repository() -> set[str]:
    """What pyproject's setuptools configuration installs: top-level package directories and modules."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    packages = tool.get("packages", [])
    names = packages if isinstance(packages, list) else packages.get("find", {}).get("include", [])
    top_level = {name.split(".")[0] for name in names} - {"*"}
    return top_level | {f"{module}.py" for module in tool.get("py-modules", [])}


# --------------------------------------------------------------------------------- the services --------
def test_the_stack_has_its_services() -> None:
    assert {"postgresql", "temporal", "temporal-ui", "migrate", "api", "worker", "minio", "mailpit"} <= set(SERVICES)


@pytest.mark.parametrize("service", ["postgresql", "temporal", "api", "worker", "minio", "mailpit"])
def test_each_long_running_service_says_when_it_is_healthy(service: str) -> None:
    check = SERVICES[service]["healthcheck"]
    assert check["test"] and check.get("interval") and check.get("retries")


def test_minio_keeps_the_attachments_in_a_named_volume_and_reports_ready() -> None:
    minio = SERVICES["minio"]
    assert minio["image"].startswith("minio/minio:") and not minio["image"].endswith(":latest")
    assert minio["command"][:2] == ["server", "/data"] and "--console-address" in minio["command"]
    source = volume_sources("minio")["/data"]
    assert not is_host_path(source) and source in COMPOSE["volumes"]
    assert healthcheck_command("minio") in {"CMD mc ready local", "CMD curl -f http://localhost:9000/minio/health/live"}
    # the console only on this host; the S3 API only on the compose network
    assert all(str(port).startswith("127.0.0.1:") for port in minio.get("ports", []))


def test_mailpit_catches_the_mail_and_reports_ready() -> None:
    mailpit = SERVICES["mailpit"]
    assert mailpit["image"].startswith("axllent/mailpit:") and not mailpit["image"].endswith(":latest")
    assert "readyz" in healthcheck_command("mailpit") or "livez" in healthcheck_command("mailpit")
    assert all(str(port).startswith("127.0.0.1:") for port in mailpit.get("ports", []))


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_application_stores_attachments_in_minio_and_mails_through_mailpit(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [key for key in os.environ if key.startswith("MEDIATION_")]:
        monkeypatch.delenv(key)
    for key, value in container_environment(service, OPERATOR_SECRETS).items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.attachment_store == "s3" and settings.s3_endpoint_url == "http://minio:9000"
    assert settings.s3_secret_key == OPERATOR_SECRETS["MEDIATION_S3_SECRET_KEY"]
    minio = environment("minio")
    assert interpolate(minio["MINIO_ROOT_USER"], OPERATOR_SECRETS) == settings.s3_access_key
    assert interpolate(minio["MINIO_ROOT_PASSWORD"], OPERATOR_SECRETS) == settings.s3_secret_key
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == ("mailpit", 1025, False)
    assert settings.sms_provider == ""  # no SMS until the operator configures a provider
    assert depends_on(service)["minio"]["condition"] == "service_healthy"
    if service == "worker":  # the worker sends the mail
        assert depends_on("worker")["mailpit"]["condition"] == "service_healthy"


def test_postgresql_keeps_its_data_in_a_named_volume_and_says_when_it_is_ready() -> None:
    assert SERVICES["postgresql"]["image"].startswith("postgres:")
    source = volume_sources("postgresql")["/var/lib/postgresql/data"]
    assert not is_host_path(source) and source in COMPOSE["volumes"]
    assert "pg_isready" in healthcheck_command("postgresql")


def test_temporal_persists_to_the_postgresql_service_set_up_by_the_image_itself() -> None:
    temporal, postgresql = environment("temporal"), environment("postgresql")
    assert SERVICES["temporal"]["image"].startswith("temporalio/auto-setup:")
    assert temporal["DB"] == "postgres12"
    assert temporal["POSTGRES_SEEDS"] == "postgresql"
    assert temporal["DB_PORT"] == "5432"
    assert temporal["POSTGRES_USER"] == postgresql["POSTGRES_USER"]
    password = OPERATOR_SECRETS["POSTGRES_PASSWORD"]
    assert interpolate(temporal["POSTGRES_PWD"], OPERATOR_SECRETS) == password
    assert interpolate(postgresql["POSTGRES_PASSWORD"], OPERATOR_SECRETS) == password
    assert depends_on("temporal")["postgresql"]["condition"] == "service_healthy"
    assert "temporal:7233" in healthcheck_command("temporal")


def test_temporal_reads_the_dynamic_config_mounted_from_deploy() -> None:
    path = environment("temporal")["DYNAMIC_CONFIG_FILE_PATH"] or ""
    assert path.startswith("config/dynamicconfig/")  # relative to the image's /etc/temporal
    config = host_file("temporal", "/etc/temporal/config/dynamicconfig") / Path(path).name
    assert isinstance(yaml.safe_load(config.read_text(encoding="utf-8")), dict)


def test_the_temporal_ui_talks_to_the_temporal_service() -> None:
    assert SERVICES["temporal-ui"]["image"].startswith("temporalio/ui:")
    assert environment("temporal-ui")["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert any(str(port).endswith("8080:8080") for port in SERVICES["temporal-ui"]["ports"])
    assert depends_on("temporal-ui")["temporal"]["condition"] == "service_healthy"


def test_api_workers_and_migrate_are_one_image_built_from_the_dockerfile() -> None:
    commands = {"api": ["mediation", "api"], "worker": ["mediation", "worker", "--no-documents"],
                "documents": ["mediation", "documents-worker"],  # PDFs apart from the cases' worker
                "migrate": ["mediation", "migrate"]}  # the schema and a seal key; no demo data
    for name, command in commands.items():
        build = SERVICES[name]["build"]
        context, file = (build, "Dockerfile") if isinstance(build, str) else (
            build["context"], build.get("dockerfile", "Dockerfile"))
        assert (ROOT / context / file).resolve() == ROOT / "Dockerfile", name
        cmd = SERVICES[name]["command"]
        assert (shlex.split(cmd) if isinstance(cmd, str) else cmd) == command
    assert len({SERVICES[name]["image"] for name in commands}) == 1, "one image for the three"


def test_every_dependency_waits_on_a_condition() -> None:
    allowed = {"service_started", "service_healthy", "service_completed_successfully"}
    for name in SERVICES:
        for dependency, spec in depends_on(name).items():
            assert dependency in SERVICES, f"{name} depends on an unknown service {dependency}"
            assert spec.get("condition") in allowed, f"{name} -> {dependency}: no condition"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_api_and_worker_start_after_the_database_temporal_and_the_migrations(service: str) -> None:
    deps = depends_on(service)
    assert deps["postgresql"]["condition"] == "service_healthy"
    assert deps["temporal"]["condition"] == "service_healthy"
    assert deps["migrate"]["condition"] == "service_completed_successfully"


def test_migrate_runs_once_against_a_ready_database() -> None:
    assert depends_on("migrate")["postgresql"]["condition"] == "service_healthy"
    assert str(SERVICES["migrate"].get("restart", "no")) == "no"


def test_the_api_is_healthy_when_ready() -> None:
    port = environment("api")["MEDIATION_API_PORT"]
    check = healthcheck_command("api")
    assert "/health/ready" in check and f":{port}/" in check
    assert any(str(published).endswith(f":{port}") for published in SERVICES["api"]["ports"])


def test_volumes_are_named_and_declared_and_the_data_directory_is_one() -> None:
    declared = set(COMPOSE.get("volumes") or {})
    for name in SERVICES:
        for target, source in volume_sources(name).items():
            if is_host_path(source):
                assert (ROOT / source).exists(), f"{name}: {source} is missing"
            else:
                assert source in declared, f"{name}: volume {source!r} for {target} is not declared"
    data_dir = environment("api")["MEDIATION_DATA_DIR"]
    for name in ("migrate", *APP_SERVICES):
        assert volume_sources(name).get(data_dir) in declared, f"{name}: the data directory is not a volume"


# ------------------------------------------------------------------------------ the settings ----------
@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_setting_reaches_the_api_and_the_worker(service: str) -> None:
    """Each field of Settings is named in the service's environment: with a value (mostly ${VAR:-default}),
    or without one, passed through from the operator's environment. Only a field whose default is None may be
    passed through (unset, it keeps its default). The fields that do not apply are listed above, with why."""
    env = environment(service)
    for field, info in Settings.model_fields.items():
        if field in NOT_IN_CONTAINERS:
            continue
        name = env_name(field)
        assert name in env, f"{service}: {name} is not set, and the application reads {field}"
        if env[name] is None:
            assert info.default is None, f"{service}: {name} is passed through; {field} has a default"
    unknown = {key for key in env if key.startswith("MEDIATION_")} - set(map(env_name, Settings.model_fields))
    assert not unknown, f"{service}: not settings of the application (misspelt?): {sorted(unknown)}"


def test_the_settings_left_out_are_still_settings() -> None:
    assert set(NOT_IN_CONTAINERS) <= set(Settings.model_fields)


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_compose_environment_makes_production_settings(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = environment(service)
    assert env["MEDIATION_DEV_MODE"] == "false"
    for key in [key for key in os.environ if key.startswith("MEDIATION_")]:
        monkeypatch.delenv(key)
    for key, value in container_environment(service, OPERATOR_SECRETS).items():
        monkeypatch.setenv(key, value)
    settings = Settings()

    assert settings.dev_mode is False
    settings.check_for_production()
    assert settings.secret_key == OPERATOR_SECRETS["MEDIATION_SECRET_KEY"]

    url = make_url(settings.effective_database_url)
    assert url.get_backend_name() == "postgresql" and url.host == "postgresql"
    assert url.database == interpolate(environment("postgresql")["APP_DB_NAME"], {})
    assert os.environ["PGPASSWORD"] == OPERATOR_SECRETS["APP_DB_PASSWORD"]  # libpq reads it

    assert settings.temporal_address == "temporal:7233" and not settings.temporal_uses_tls
    assert settings.temporal_namespace == interpolate(environment("temporal")["DEFAULT_NAMESPACE"], {})
    assert (settings.api_host, settings.api_port) == ("0.0.0.0", 8000)
    assert settings.worker_metrics_port == 9464
    assert settings.data_dir == Path(env["MEDIATION_DATA_DIR"] or "")
    assert settings.effective_seal_key_path.parent == settings.data_dir
    assert settings.effective_seal_cert_path.parent == settings.data_dir
    assert settings.log_format == "json"


def test_the_operator_must_provide_the_secrets() -> None:
    for secret in OPERATOR_SECRETS:
        without = {key: value for key, value in OPERATOR_SECRETS.items() if key != secret}
        with pytest.raises(MissingVariable, match=secret):
            interpolate(COMPOSE, without)
    interpolate(COMPOSE, OPERATOR_SECRETS)  # and nothing else is required


def test_no_secret_is_written_in_the_file() -> None:
    """A password, key or passphrase comes from the operator: ${NAME:?why} (required), or passed through."""
    for name in SERVICES:
        for key, value in environment(name).items():
            if SECRET_NAME.search(key) and value is not None:
                assert FROM_THE_OPERATOR.fullmatch(value), f"{name}: {key} is written in the file"


def test_prometheus_scrapes_the_api_and_the_worker() -> None:
    if "prometheus" not in SERVICES:
        pytest.skip("no prometheus service")
    config_file = host_file("prometheus", "/etc/prometheus/prometheus.yml")
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    targets = set()
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            targets |= set(static["targets"])
        for dns in job.get("dns_sd_configs", []):
            targets |= {f"{name}:{dns['port']}" for name in dns["names"]}
    assert f"api:{environment('api')['MEDIATION_API_PORT']}" in targets
    assert f"worker:{environment('worker')['MEDIATION_WORKER_METRICS_PORT']}" in targets


# ------------------------------------------------------------------------------- the image -------------
def test_the_image_is_python_311_slim() -> None:
    assert re.match(r"python:3\.11-slim-(bookworm|trixie)(\s|$)", dockerfile("FROM")[0])


def test_the_image_has_what_weasyprint_needs() -> None:
    installs = [run for run in dockerfile("RUN") if "apt-get install" in run]
    assert installs, "no apt-get install"
    for run in installs:
        assert "--no-install-recommends" in run and "rm -rf /var/lib/apt/lists" in run
    needed = {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz0b", "libharfbuzz-subset0", "fonts-noto-cjk"}
    assert needed <= set(" ".join(installs).split())


def test_the_image_installs_every_package_of_the_pyproject() -> None:
    copied = set()
    for args in dockerfile("COPY"):
        sources = [part for part in args.split() if not part.startswith("--")][:-1]
        copied |= {source.removeprefix("./").rstrip("/") for source in sources}
    assert installed_from_the_repository() | {"pyproject.toml", "alembic.ini"} <= copied
    assert any(re.search(r"pip install --no-cache-dir \.(\s|$)", run) for run in dockerfile("RUN"))


def test_the_image_runs_as_an_unprivileged_user() -> None:
    users = dockerfile("USER")
    assert users, "no USER: the processes would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_the_image_serves_the_api_by_default() -> None:
    cmd = dockerfile("CMD")[-1]
    assert (yaml.safe_load(cmd) if cmd.startswith("[") else shlex.split(cmd)) == ["mediation", "api"]
    assert "8000" in " ".join(dockerfile("EXPOSE")).split()
    assert "PYTHONUNBUFFERED=1" in " ".join(dockerfile("ENV"))


def test_the_build_context_leaves_out_the_workspace_and_the_keys() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    ignored = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    assert {".venv", "data", ".git", "tests", "bench", "*.db", ".pytest_cache"} <= ignored
    assert any("__pycache__" in line for line in ignored) and any(".pem" in line for line in ignored)
    assert not (installed_from_the_repository() | {"pyproject.toml", "alembic.ini"}) & ignored
