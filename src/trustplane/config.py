"""Server settings, read once from the environment (prefix ``TRUSTPLANE_``) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the server and the local commands need to know about their surroundings."""

    model_config = SettingsConfigDict(env_prefix="TRUSTPLANE_", extra="ignore")

    home: Path = Field(default=Path(".trustplane"), description="Data folder.")
    database_url: str = Field(default="", description="SQLAlchemy URL; SQLite in home if empty.")
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request body.")
    token_ttl_days: int = Field(default=90, ge=1, description="Default API token lifetime.")
    oidc_leeway_seconds: int = Field(default=30, ge=0, le=300, description="Clock skew allowed.")
    last_used_resolution_seconds: int = Field(
        default=60, ge=0, description="Token and binding last-used times move at most this often."
    )
    log_level: str = Field(default="INFO")
    max_concurrent_requests: int = Field(
        default=6,
        ge=1,
        le=256,
        description="Requests a server process works on at once; more wait their turn.",
    )
    ledger_name: str = Field(
        default="trustplane",
        pattern=r"^[A-Za-z0-9._/-]{1,100}$",
        description="Key name; a tenant's ledger is named '<ledger_name>/ledger/<tenant id>'.",
    )
    ledger_key_path: Path | None = Field(
        default=None, description="Ed25519 signing key file; '<home>/ledger.key' if unset."
    )
    checkpoint_interval_seconds: int = Field(
        default=300, ge=0, description="How often the server signs new checkpoints; 0 = never."
    )
    policy_timeout_seconds: float = Field(
        default=2.0, gt=0, le=60, description="A policy evaluation taking longer is a denial."
    )
    waiver_sweep_interval_seconds: int = Field(
        default=3600, ge=0, description="How often the server expires due waivers; 0 = never."
    )

    @property
    def signing_key_path(self) -> Path:
        return self.ledger_key_path or self.home / "ledger.key"

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.home / 'trustplane.db').resolve()}"
        return self
