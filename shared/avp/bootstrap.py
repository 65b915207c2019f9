"""The composition root: builds the real dependencies once per process, lazily.

Functions and steps ask `container()` for what they need; tests install their own with
`use_container(...)` (e.g. a Firestore client bound to a fresh project id).
"""
from __future__ import annotations

import functools
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from avp.config import Settings, settings as env_settings


@dataclass
class Container:
    settings: Settings
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @functools.cached_property
    def firestore(self):
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import firestore

        if self.settings.firestore_host:
            return firestore.Client(project=self.settings.project_id, credentials=AnonymousCredentials())
        return firestore.Client(project=self.settings.project_id)

    @functools.cached_property
    def store(self):
        from avp.store import Store

        return Store(self.firestore)

    @functools.cached_property
    def storage(self):
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage as gcs

        from avp.storage import IamSigner, Storage, local_signer

        s = self.settings
        if s.storage_host:
            client = gcs.Client(project=s.project_id, credentials=AnonymousCredentials())
            bucket = client.bucket(s.bucket)
            if not bucket.exists():
                client.create_bucket(s.bucket)
            return Storage(client, s.bucket, signer=local_signer(s.data_dir, s.project_id),
                           public_host=s.storage_public_host or s.storage_host, checks_preconditions=False)
        import google.auth

        credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
        return Storage(gcs.Client(project=s.project_id, credentials=credentials), s.bucket, signer=IamSigner(credentials))

    @functools.cached_property
    def jwt_key(self) -> str:
        """The access-token signing key: configured (Secret Manager in the cloud), else generated once
        into the data dir so tokens survive a local restart."""
        if self.settings.jwt_key:
            return self.settings.jwt_key
        key_file = self.settings.data_dir / "jwt.key"
        with self._lock:
            if not key_file.exists():
                key_file.parent.mkdir(parents=True, exist_ok=True)
                tmp = key_file.with_suffix(".tmp")
                tmp.write_text(secrets.token_urlsafe(48))
                tmp.chmod(0o600)
                tmp.replace(key_file)
        return key_file.read_text().strip()

    @functools.cached_property
    def mailer(self):
        from avp.mail import OutboxMailer, SmtpMailer

        s = self.settings
        if s.smtp_host:
            return SmtpMailer(s.smtp_host, s.smtp_port, s.smtp_user, s.smtp_password, s.mail_from)
        return OutboxMailer(s.data_dir / "outbox", s.mail_from)

    @functools.cached_property
    def workflows(self):
        from avp.pipeline.runner import make_runner

        return make_runner(self)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir


_current: Container | None = None
_current_lock = threading.Lock()


def container() -> Container:
    global _current
    with _current_lock:
        if _current is None:
            _current = Container(env_settings())
        return _current


def use_container(c: Container | None) -> None:
    """Install `c` as the process container (None: rebuild from the environment on next use)."""
    global _current
    with _current_lock:
        _current = c
