"""One settings class: every knob the product reads comes from the environment (prefix MEDIATION_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
    log_level: str = "INFO"
    action_timeout_seconds: float = 30.0  # how long the API waits for the workflow to apply an action
    worker_cache_size: int = 1000  # cases a worker keeps in memory (about 0.2 MB each)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'mediation.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
