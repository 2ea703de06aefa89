"""One settings class: every knob the product reads comes from the environment (prefix MEDIATION_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-secret-refused-outside-dev-mode-0000"  # noqa: S105 - refused outside dev mode


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDIATION_", extra="ignore")

    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str = ""  # empty: SQLite file in data_dir
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "disputes"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    temporal_ui_port: int = 8233
    # Temporal Cloud or a cluster with TLS: mTLS client certificate and key (PEM), a CA for a private server
    # certificate, or an API key (sent as a bearer token over TLS). None of them: plain gRPC (the dev server).
    temporal_tls: bool = False  # TLS with the system's trust store, even without a client certificate
    temporal_tls_cert_path: Path | None = None
    temporal_tls_key_path: Path | None = None
    temporal_tls_ca_path: Path | None = None
    temporal_tls_server_name: str | None = None
    temporal_api_key: str | None = None
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one object a line, with request id and case id
    worker_metrics_port: int = 0  # the worker's Prometheus endpoint (Temporal SDK metrics); 0: none
    action_timeout_seconds: float = 30.0  # how long the API waits for the workflow to apply an action, in all
    # The database connections of a process (the API or the worker): the pool is sized to the API's threads, so
    # that a request never waits for a connection another request holds while it waits for Temporal (none does).
    db_pool_size: int = 40
    db_max_overflow: int = 10
    db_pool_timeout_seconds: float = 10.0  # no free connection within this: 503 with Retry-After
    db_busy_timeout_seconds: float = 15.0  # SQLite: a writer waits this long for another's lock
    api_threads: int = 40  # the API's thread pool, where every database call of a request runs
    # The audit trail's writer (api/audit.py): at most this many entries of waiting requests in one transaction.
    audit_batch_max: int = 500
    max_body_bytes: int = 1_048_576  # a request body past this is refused (413) before anything reads it
    max_upload_bytes: int = 16_777_216  # the same for CSV files (the pool, a calendar year)
    worker_cache_size: int = 1000  # cases a worker keeps in memory (about 0.2 MB each)
    # Processes of `mediation documents-worker` that `mediation run` starts: they render and seal the documents
    # apart from the API and the cases' worker (each lays out one PDF at a time).
    document_workers: int = 2
    # The documents' workers' CPU priority (a Unix nice value, 0-19): documents are made in the background, so a
    # staff action waiting for its answer goes first when the two compete for the same cores; 0 gives them equal
    # shares. Documents still get every core the actions leave idle.
    documents_worker_nice: int = Field(default=10, ge=0, le=19)
    # A PDF asked for while its document is still being made is waited for this long, then 409 document_pending
    # with Retry-After (its status is in every read of the document).
    document_wait_seconds: float = 20.0
    # The committee's seal (documents/seal.py): a PEM private key and its certificate chain, the signer's
    # certificate first. Unset: seal-key.pem and seal-cert.pem in data_dir, made by `mediation seal init`
    # (the embedded stack makes them at its first start). Verification trusts the certificate file.
    seal_documents: bool = True
    seal_key_path: Path | None = None
    seal_cert_path: Path | None = None
    seal_key_passphrase: str | None = None
    seal_name: str = ""  # the committee named on a certificate the product makes itself (`mediation seal init`)
    # Delivery of the notifications (docs/notifications.md): by e-mail when smtp_host is set, by SMS when
    # sms_provider is; the log channel always. Each is a Temporal activity retried with backoff
    # (delivery_first_retry_seconds, doubling, at most delivery_max_attempts tries); a permanent refusal (an SMTP
    # 5xx, an invalid number) is not retried.
    smtp_host: str = ""  # empty: no e-mail
    smtp_port: int = 587
    smtp_user: str = ""  # empty: no login
    smtp_password: str | None = None
    smtp_starttls: bool = True  # upgrade the connection with STARTTLS (required when true)
    smtp_tls: bool = False  # implicit TLS from the first byte (port 465) instead
    smtp_ca_path: Path | None = None  # a private CA that signed the mail server's certificate
    smtp_timeout_seconds: float = 20.0
    mail_sender: str = "医疗纠纷人民调解委员会 <noreply@mediation.invalid>"  # From:, and the Message-ID's domain
    sms_provider: Literal["", "aliyun"] = ""  # empty: no SMS; aliyun: Alibaba Cloud SMS (SendSms)
    sms_endpoint: str = "https://dysmsapi.aliyuncs.com/"
    sms_region: str = "cn-hangzhou"
    sms_access_key_id: str = ""
    sms_access_key_secret: str | None = None
    sms_sign_name: str = ""  # the registered signature, e.g. 某市医调委
    sms_template_code: str = ""  # the registered template (variables ${number}, ${item}) for every kind...
    sms_templates: dict[str, str] | None = None  # ...unless a kind has its own: {"expert_invitation": "SMS_1"}
    sms_timeout_seconds: float = 10.0
    delivery_max_attempts: int = 8
    delivery_first_retry_seconds: float = 10.0
    # Authentication. dev_mode (the embedded stack and the tests) accepts the X-Actor-* headers as the acting
    # user and a built-in secret; outside dev mode both are refused (see `check_for_production`).
    dev_mode: bool = True
    secret_key: str = ""  # signs the access and refresh tokens (HS256); at least 32 characters
    access_token_minutes: int = 15
    refresh_token_days: int = 7
    login_attempts: int = 5  # failed logins per username (and per client address) allowed in the window
    login_window_minutes: int = 15
    cors_origins: list[str] = []  # browser origins allowed to call the API; none by default
    # Attachments (docs/attachments.md): the files the parties bring, stored by their SHA-256. "fs" keeps them
    # under data_dir/attachments (the embedded stack); "s3" in an S3-compatible object store (MinIO in
    # docker-compose) named by the s3_* settings. A file past attachment_max_bytes, or one that would take a
    # case's files past attachment_case_max_bytes, is refused (413). A withdrawn file is kept at least
    # attachment_retention_days after its withdrawal. clamav_address: clamd's "host:port" or its unix socket
    # path; every upload is scanned there (INSTREAM) before it is stored; empty: no scan.
    attachment_store: Literal["fs", "s3"] = "fs"
    s3_endpoint_url: str = ""  # e.g. http://minio:9000; empty: the AWS endpoint of s3_region
    s3_bucket: str = "mediation-attachments"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_region: str = "us-east-1"
    attachment_max_bytes: int = 64 * 1024 * 1024
    attachment_case_max_bytes: int = 512 * 1024 * 1024
    attachment_retention_days: int = 30 * 365
    clamav_address: str = ""
    clamav_timeout_seconds: float = 60.0

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def effective_secret_key(self) -> str:
        return self.secret_key or DEV_SECRET

    def check_for_production(self) -> None:
        """Outside dev mode, refuse to start with the built-in secret or a short one."""
        if self.dev_mode:
            return
        if not self.secret_key or self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
            raise RuntimeError("MEDIATION_SECRET_KEY must be set to a secret of at least 32 characters when "
                               "MEDIATION_DEV_MODE is false")

    @property
    def temporal_uses_tls(self) -> bool:
        return bool(self.temporal_tls or self.temporal_tls_cert_path or self.temporal_tls_ca_path
                    or self.temporal_api_key)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'mediation.db'}"

    @property
    def effective_seal_key_path(self) -> Path:
        return self.seal_key_path or self.data_dir / "seal-key.pem"

    @property
    def effective_seal_cert_path(self) -> Path:
        return self.seal_cert_path or self.data_dir / "seal-cert.pem"

    @property
    def committee_seals_dir(self) -> Path:
        """Each committee's own seal: seals/<committee id>/seal-key.pem and seal-cert.pem in data_dir
        (`mediation seal init --committee ID`); a committee without one seals with the installation's."""
        return self.data_dir / "seals"

    def committee_seal_paths(self, committee_id: str) -> tuple[Path, Path]:
        folder = self.committee_seals_dir / committee_id
        return folder / "seal-key.pem", folder / "seal-cert.pem"

    def committee_seal_certificates(self) -> list[Path]:
        """The certificates of the committees that have their own seal."""
        return sorted(self.committee_seals_dir.glob("*/seal-cert.pem")) if self.committee_seals_dir.is_dir() else []


@lru_cache
def get_settings() -> Settings:
    return Settings()
