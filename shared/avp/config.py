"""Typed settings read once from the environment. Every variable avp reads is listed here."""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path


# API Gateway refuses requests over 32 megabytes (https://cloud.google.com/api-gateway/docs/quotas,
# "Payload size limits"): a direct upload and its multipart envelope must stay below it; larger
# videos go through the resumable session, straight to Cloud Storage.
GATEWAY_MAX_REQUEST_BYTES = 32 * 1000**2
MULTIPART_ENVELOPE_BYTES = 1024**2  # the form fields and part headers around the file


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


@dataclass(frozen=True)
class Settings:
    """Deployment settings. `env` is `local` (emulators, one machine) or `cloud`."""

    env: str = "local"
    project_id: str = "avp-local"
    region: str = "europe-west1"
    data_dir: Path = Path(".avp")
    bucket: str = "avp-media"
    firestore_host: str | None = None
    storage_host: str | None = None
    storage_public_host: str | None = None  # locally: the signature-checking front handed out in URLs (else storage_host)
    public_url: str = "http://127.0.0.1:8012"
    jwt_key: str | None = None
    access_ttl: int = 15 * 60
    refresh_ttl: int = 30 * 24 * 3600
    cookie_secure: bool = True
    admin_email: str = "admin@avp.local"
    admin_password: str | None = None
    login_max_failures: int = 10
    login_ip_max_failures: int = 50
    lockout_seconds: int = 15 * 60
    auth_cache_seconds: float = 2.0  # how long an instance may reuse a user's state (role, revocation)
    trusted_proxies: int | None = None  # proxies in front that append X-Forwarded-For; None: 0 locally, 1 in the cloud
    max_upload_bytes: int = 20 * 1024**3
    max_direct_upload_bytes: int = 30 * 1000**2  # + envelope stays under GATEWAY_MAX_REQUEST_BYTES
    max_json_bytes: int = 2 * 1024**2
    ms_client_id: str = ""
    ms_tenant_ids: tuple[str, ...] = ()
    ms_jwks_url: str = "https://login.microsoftonline.com/common/discovery/v2.0/keys"
    invitation_ttl: int = 7 * 24 * 3600
    asr_provider: str = "local"
    asr_vad: bool = True  # local recognizer: decode only what the voice detector marks as speech
    describe_provider: str = "local"
    tts_provider: str = "local"
    translate_provider: str = "none"
    embed_provider: str = ""  # empty: local in local mode, gemini in the cloud
    gemini_api_key: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str = "avp <no-reply@avp.local>"
    log_level: str = "INFO"

    @property
    def is_local(self) -> bool:
        return self.env == "local"

    @property
    def max_request_bytes(self) -> int:
        """The largest request body a function accepts: a direct upload in its multipart envelope."""
        return self.max_direct_upload_bytes + MULTIPART_ENVELOPE_BYTES

    @property
    def proxy_hops(self) -> int:
        """How many proxies in front of the functions to trust for the client's address."""
        if self.trusted_proxies is not None:
            return max(0, self.trusted_proxies)
        return 0 if self.is_local else 1

    def to_env(self) -> dict[str, str]:
        """The variables a child process (a pipeline step) needs to see the same deployment."""
        env = {"AVP_ENV": self.env, "GOOGLE_CLOUD_PROJECT": self.project_id, "AVP_REGION": self.region,
               "AVP_DATA_DIR": str(self.data_dir), "AVP_BUCKET": self.bucket, "AVP_PUBLIC_URL": self.public_url,
               "AVP_ASR_PROVIDER": self.asr_provider, "AVP_ASR_VAD": str(self.asr_vad).lower(),
               "AVP_DESCRIBE_PROVIDER": self.describe_provider,
               "AVP_TTS_PROVIDER": self.tts_provider, "AVP_TRANSLATE_PROVIDER": self.translate_provider,
               "AVP_LOG_LEVEL": self.log_level}
        if self.firestore_host:
            env["FIRESTORE_EMULATOR_HOST"] = self.firestore_host
        if self.storage_host:
            env["STORAGE_EMULATOR_HOST"] = self.storage_host
        if self.storage_public_host:
            env["AVP_STORAGE_PUBLIC_HOST"] = self.storage_public_host
        return env

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        """Build settings from `environ` (default: the process environment)."""
        e = os.environ if environ is None else environ
        d = cls()
        built = cls(
            env=e.get("AVP_ENV", d.env),
            project_id=e.get("GOOGLE_CLOUD_PROJECT", d.project_id),
            region=e.get("AVP_REGION", d.region),
            data_dir=Path(e.get("AVP_DATA_DIR", str(d.data_dir))).resolve(),
            bucket=e.get("AVP_BUCKET", d.bucket),
            firestore_host=e.get("FIRESTORE_EMULATOR_HOST") or None,
            storage_host=e.get("STORAGE_EMULATOR_HOST") or None,
            storage_public_host=e.get("AVP_STORAGE_PUBLIC_HOST") or None,
            public_url=e.get("AVP_PUBLIC_URL", d.public_url).rstrip("/"),
            jwt_key=e.get("AVP_JWT_KEY") or None,
            access_ttl=int(e.get("AVP_ACCESS_TTL", d.access_ttl)),
            refresh_ttl=int(e.get("AVP_REFRESH_TTL", d.refresh_ttl)),
            cookie_secure=_bool(e.get("AVP_COOKIE_SECURE"), d.cookie_secure),
            admin_email=e.get("AVP_ADMIN_EMAIL", d.admin_email),
            admin_password=e.get("AVP_ADMIN_PASSWORD") or None,
            login_max_failures=int(e.get("AVP_LOGIN_MAX_FAILURES", d.login_max_failures)),
            login_ip_max_failures=int(e.get("AVP_LOGIN_IP_MAX_FAILURES", d.login_ip_max_failures)),
            lockout_seconds=int(e.get("AVP_LOCKOUT_SECONDS", d.lockout_seconds)),
            auth_cache_seconds=float(e.get("AVP_AUTH_CACHE_SECONDS", d.auth_cache_seconds)),
            trusted_proxies=int(e["AVP_TRUSTED_PROXIES"]) if e.get("AVP_TRUSTED_PROXIES") else None,
            max_upload_bytes=int(e.get("AVP_MAX_UPLOAD_BYTES", d.max_upload_bytes)),
            max_direct_upload_bytes=int(e.get("AVP_MAX_DIRECT_UPLOAD_BYTES", d.max_direct_upload_bytes)),
            max_json_bytes=int(e.get("AVP_MAX_JSON_BYTES", d.max_json_bytes)),
            ms_client_id=e.get("AVP_MS_CLIENT_ID", d.ms_client_id),
            ms_tenant_ids=_list(e.get("AVP_MS_TENANT_IDS")),
            ms_jwks_url=e.get("AVP_MS_JWKS_URL", d.ms_jwks_url),
            invitation_ttl=int(e.get("AVP_INVITATION_TTL", d.invitation_ttl)),
            asr_provider=e.get("AVP_ASR_PROVIDER", d.asr_provider),
            asr_vad=_bool(e.get("AVP_ASR_VAD"), d.asr_vad),
            describe_provider=e.get("AVP_DESCRIBE_PROVIDER", d.describe_provider),
            tts_provider=e.get("AVP_TTS_PROVIDER", d.tts_provider),
            translate_provider=e.get("AVP_TRANSLATE_PROVIDER", d.translate_provider),
            embed_provider=e.get("AVP_EMBED_PROVIDER", d.embed_provider),
            gemini_api_key=e.get("GEMINI_API_KEY") or None,
            smtp_host=e.get("AVP_SMTP_HOST") or None,
            smtp_port=int(e.get("AVP_SMTP_PORT", d.smtp_port)),
            smtp_user=e.get("AVP_SMTP_USER") or None,
            smtp_password=e.get("AVP_SMTP_PASSWORD") or None,
            mail_from=e.get("AVP_MAIL_FROM", d.mail_from),
            log_level=e.get("AVP_LOG_LEVEL", d.log_level),
        )
        if built.env == "cloud" and built.max_request_bytes > GATEWAY_MAX_REQUEST_BYTES:
            raise ValueError(f"AVP_MAX_DIRECT_UPLOAD_BYTES={built.max_direct_upload_bytes} does not fit API Gateway's "
                             f"{GATEWAY_MAX_REQUEST_BYTES}-byte request limit with its multipart envelope; larger "
                             "uploads must use the resumable session")
        return built


@functools.cache
def settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings.from_env()
