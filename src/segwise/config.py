"""Settings, declared once: every field is read from an environment variable ``SEGWISE_<NAME>``."""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from segwise.errors import ConfigError

ENV_PREFIX = "SEGWISE_"


class Settings(BaseModel):
    """All settings of segwise, with their defaults; override with ``SEGWISE_*`` variables.

    A value given to the constructor wins over the variable; variables are matched in any case.
    """

    model_config = ConfigDict(extra="ignore")

    def __init__(self, **values: Any) -> None:
        variables = environment(type(self).model_fields)
        try:
            super().__init__(**(variables | values))
        except ValidationError as exc:  # one line, naming the variable, not a traceback
            first = exc.errors()[0]
            name = str(first["loc"][0]) if first["loc"] else "?"
            where = ENV_PREFIX + name.upper() if name in variables.keys() - values else name
            field = type(self).model_fields.get(name)
            secret = field is not None and "SecretStr" in str(field.annotation)
            value = "" if secret else f" = {first.get('input')!r}"
            raise ConfigError(
                f"setting {where}{value}: {first['msg']}; set it to a valid value or unset it "
                "(docs/cli.md lists every setting)"
            ) from None

    home: Path = Field(
        default=Path("~/.segwise").expanduser(),
        description="Data folder: catalog, stored datasets, runs and models.",
    )
    database_url: str | None = Field(
        default=None,
        description="Catalog database (SQLAlchemy URL); default SQLite under SEGWISE_HOME.",
    )
    api_keys: str = Field(default="", description="Comma-separated API keys for the REST API.")
    api_read_keys: str = Field(
        default="",
        description="Comma-separated read-only API keys: every REST route but uploads and runs.",
    )
    api_workers: int = Field(
        default=1, ge=1, le=64, description="Processes the REST API runs segmentations in."
    )
    api_cors_origins: str = Field(
        default="",
        description="Comma-separated origins allowed to call the REST API from a browser "
        "(CORS); empty turns CORS off.",
    )
    memory_limit: str | None = Field(
        default=None,
        description="Memory cap for the DuckDB engine, e.g. '16GB'; past it, work spills to "
        "disk (default: 3.5GB, or 80% of RAM where that is less).",
    )
    threads: int | None = Field(default=None, description="Worker threads (default: all cores).")
    spark_master: str = Field(
        default="local[*]",
        pattern=r"^(local(\[(\d+|\*)(,\d+)?\])?|(spark|sc|k8s)://\S+|yarn)$",
        description="Where --engine spark runs: local[N], spark://host:7077, yarn, k8s://..., "
        "or Spark Connect sc://host:15002.",
    )
    pseudonymise: bool = Field(
        default=False,
        description="Replace customer ids with a keyed HMAC before anything is stored or exported.",
    )
    pseudonymise_key: SecretStr | None = Field(
        default=None,
        description="Secret key of the customer-id HMAC (kept in settings, never in the catalog).",
    )
    max_upload_mb: int = Field(
        default=200, ge=1, description="Largest file the API and the dashboard accept, in MB."
    )
    max_bad_share: float = Field(
        default=0.01,
        ge=0.0,
        le=1.0,
        description="Largest share of lines with unreadable dates or amounts before a run stops.",
    )
    max_unpacked_mb: int = Field(
        default=1024, ge=1, description="Largest unpacked size of an XLSX workbook, in MB."
    )
    max_cells: int = Field(
        default=50_000_000, ge=1, description="Most cells an XLSX sheet may declare."
    )
    max_columns: int = Field(default=2_000, ge=1, description="Most columns an input may have.")
    max_files: int = Field(
        default=1_000, ge=1, description="Most data files a folder or glob input may hold."
    )
    max_line_kb: int = Field(
        default=1024, ge=1, description="Longest line a text file may have, in KB."
    )
    upload_memory_mb: int = Field(
        default=4096,
        ge=512,  # reading even a small file takes about 300 MB
        description="Memory the API's upload reader process may use, in MB; a file that needs "
        "more is refused.",
    )
    session_minutes: int = Field(
        default=480, ge=1, description="How long a dashboard sign-in lasts, in minutes."
    )
    signin_attempts: int = Field(
        default=5, ge=1, description="Wrong passwords per name in 15 minutes before sign-in waits."
    )
    retention_days: int | None = Field(
        default=None,
        ge=1,
        description="Delete datasets and runs older than this many days (`segwise retention "
        "run`, and at start-up of the API and the dashboard); unset keeps them.",
    )
    erasure_key: SecretStr | None = Field(
        default=None,
        description="Secret key of the erased-customer hashes (default: the pseudonymise key, "
        "else a key file made in SEGWISE_HOME).",
    )
    app_host: str = Field(
        default="",
        description="Address the dashboard listens on (set by `segwise app`); with no account "
        "and a loopback address the dashboard runs in single-user local mode.",
    )
    model_key: SecretStr | None = Field(
        default=None,
        description="Secret key signing model files (HMAC); a file that does not match is refused.",
    )

    alert_psi: float = Field(
        default=0.25,
        gt=0,
        le=100,
        description="Scheduled runs alert when a feature's PSI against the previous run "
        "reaches this (0.1-0.25 some shift, above 0.25 a real one).",
    )
    alert_size_shift: float = Field(
        default=10.0,
        gt=0,
        le=100,
        description="Scheduled runs alert when a segment's share of customers moves by this "
        "many percentage points.",
    )
    alert_worse_share: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="Scheduled runs alert when this share of returning customers moved to a "
        "worse segment (0.2 = 20%).",
    )
    alert_webhook: str | None = Field(
        default=None,
        description="URL alerts are POSTed to as JSON (a schedule's --webhook overrides it).",
    )
    alert_webhook_timeout: float = Field(
        default=5.0, gt=0, le=60, description="Seconds a webhook call may take."
    )
    alert_webhook_retries: int = Field(
        default=2, ge=0, le=5, description="Further tries of a failed webhook call."
    )
    alert_email: str | None = Field(
        default=None,
        description="Comma-separated addresses alerts are mailed to (a schedule's --email "
        "overrides it); needs SEGWISE_SMTP_HOST.",
    )
    alert_email_from: str = Field(
        default="segwise@localhost", description="Sender address of alert e-mails."
    )
    smtp_host: str | None = Field(default=None, description="SMTP server of alert e-mails.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_user: str | None = Field(default=None, description="SMTP user name, when it needs one.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(
        default=False, description="Upgrade the SMTP connection with STARTTLS before sign-in."
    )
    schedule_lock_hours: float = Field(
        default=6.0,
        gt=0,
        description="A scheduled run still marked running after this many hours is taken "
        "over by the next `segwise schedule run-due`.",
    )

    def duckdb_memory_limit(self) -> str:
        """The DuckDB engine's memory cap: ``memory_limit``, else ``DEFAULT_MEMORY_CAP``, or
        DuckDB's own default, 80% of RAM, where that is less."""
        if self.memory_limit:
            return self.memory_limit
        cap = DEFAULT_MEMORY_CAP
        with suppress(ValueError, OSError, AttributeError):  # no sysconf: keep the cap
            cap = min(cap, int(0.8 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")))
        return f"{cap // 10**6}MB"


DEFAULT_MEMORY_CAP = 3_500_000_000
"""Bytes DuckDB may hold before spilling, unless ``SEGWISE_MEMORY_LIMIT`` says otherwise: RFM of
100M log lines (34M customers) then peaks at 3.5 GiB in 72-79 s, against 64 s and 10.8 GiB
under DuckDB's own cap (2 cores, docs/benchmarks.md)."""


def environment(fields: Iterable[str]) -> dict[str, str]:
    """The ``SEGWISE_<FIELD>`` variables set, by field. Read here rather than through
    pydantic-settings, whose import took 70-90 ms of every command's start (a `segwise rfm`
    of 1M lines takes ~1.1 s); pydantic still parses and checks each value."""
    wanted = {(ENV_PREFIX + name).lower(): name for name in fields}
    return {wanted[k.lower()]: v for k, v in os.environ.items() if k.lower() in wanted}


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()
