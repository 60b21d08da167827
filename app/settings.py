"""Configuration from environment variables, with defaults that run with no file present.

Built in the app factory and the CLI, never at import time, so tests and tools build their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_DIR / 'data' / 'newsfacts.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="`sqlite:///path/to/file.db` (default: data/newsfacts.db in the project) or "
        "`postgresql+psycopg://user:password@host/dbname`.",
    )
    seeds_dir: Path = Field(PROJECT_DIR / "seeds", description="The folder of article folders to load.")
    host: str = Field("127.0.0.1", description="Interface `serve` listens on (0.0.0.0 in the container).")
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes for `serve`.")
    cors_origins: str = Field(
        "*", description="Comma-separated origins allowed to GET from browsers, or `*`."
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    log_format: Literal["text", "json"] = "text"
    request_timeout: float = Field(
        5.0, gt=0, le=300, description="Seconds a request may spend in the database before it gets a 503."
    )
    cache_mb: int = Field(
        64, ge=0, le=4096, description="Memory for cached responses per worker (0 disables)."
    )
    search_index_mb: int = Field(
        96,
        ge=0,
        le=4096,
        description="Memory per worker for the searched words' postings, with which search ranks in "
        "memory, and on SQLite the short entries' texts, where they take at most half of it (0: the "
        "database ranks every search: FTS5's bm25 on SQLite, `ts_rank_cd` on PostgreSQL).",
    )
    snippet_cache_mb: int = Field(
        32,
        ge=0,
        le=4096,
        description="SQLite: memory per worker for a page cache of search's snippets' own (FTS5's index "
        "and the articles' texts, read through the file attached a second time), so that they and lists do "
        "not evict each other's pages (0: they share the connection's 2 MB).",
    )
    db_pool_size: int = Field(
        10, ge=1, le=200, description="PostgreSQL connections per worker, opened at start and kept."
    )
    limit_concurrency: int = Field(
        256, ge=1, description="Connections and requests a worker handles at once; beyond it, 503."
    )
    keep_alive_timeout: int = Field(
        5, ge=1, le=300, description="Seconds an idle keep-alive connection is kept."
    )

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
            raise ValueError(
                "use sqlite:///path/to/file.db or postgresql+psycopg://user:password@host/dbname"
            )
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @property
    def backend(self) -> Literal["sqlite", "postgresql"]:
        return "sqlite" if self.database_url.startswith("sqlite") else "postgresql"

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]


class ConfigurationError(Exception):
    """An environment variable has a value we cannot use; the message names it."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            variable = "_".join(str(part) for part in error["loc"]).upper()
            value = error.get("input")
            lines.append(f"{variable}={value!r}: {error['msg'].removeprefix('Value error, ')}")
        raise ConfigurationError("invalid configuration:\n  " + "\n  ".join(lines)) from None
