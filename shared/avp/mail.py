"""The mail port: SMTP in the cloud, an outbox folder of .eml files locally."""
from __future__ import annotations

import smtplib
import time
import uuid
from email.message import EmailMessage
from pathlib import Path


def _message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg.set_content(body)
    return msg


class OutboxMailer:
    def __init__(self, folder: Path, sender: str):
        self.folder, self.sender = folder, sender

    def send(self, to: str, subject: str, body: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(bytes(_message(self.sender, to, subject, body)))
        tmp.replace(path)
        return path


class SmtpMailer:
    def __init__(self, host: str, port: int, user: str | None, password: str | None, sender: str):
        self.host, self.port, self.user, self.password, self.sender = host, port, user, password, sender

    def send(self, to: str, subject: str, body: str) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(_message(self.sender, to, subject, body))
