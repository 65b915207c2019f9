#!/usr/bin/env python3
"""Turn avp's runtime config into what deploying a function takes.

Terraform keeps the runtime settings in one place (infra/terraform/modules/platform: Terraform
variables -> the media job's environment and the Secret Manager secret `avp-runtime-config`);
Cloud Build hands that secret to this script as RUNTIME_CONFIG, a JSON object:

    {"env": {"AVP_ENV": "cloud", ...}, "secrets": {"AVP_JWT_KEY": "avp-jwt-key", ...},
     "bucket": "...", "build_service_account": "projects/P/serviceAccounts/..." or ""}

It writes, into --out: `env.yaml` (gcloud --env-vars-file) and `deploy.env` (FUNCTION_SECRETS,
BUCKET, BUILD_SERVICE_ACCOUNT, sourced by scripts/deploy_function.sh). A config the code would
refuse at start-up (avp.config.Settings) fails the build here instead.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


class ConfigError(ValueError):
    pass


def render(config: dict[str, Any]) -> tuple[str, str]:
    """(env.yaml, deploy.env) for `config`; ConfigError says what is wrong with it."""
    env, secrets, bucket = config.get("env"), config.get("secrets"), config.get("bucket")
    if not isinstance(env, dict) or not isinstance(secrets, dict) or not isinstance(bucket, str) or not bucket:
        raise ConfigError("the runtime config needs an `env` object, a `secrets` object and a `bucket`")
    bad = sorted(k for k in [*env, *secrets] if not NAME.match(k))
    if bad:
        raise ConfigError(f"not environment variable names: {bad}")
    if set(env) & set(secrets):
        raise ConfigError(f"set both as plain environment and as a secret: {sorted(set(env) & set(secrets))}")
    if env.get("AVP_ENV") != "cloud" or env.get("AVP_BUCKET") != bucket:
        raise ConfigError("env must have AVP_ENV=cloud and AVP_BUCKET equal to `bucket`")
    sys.path.insert(0, str(REPO / "shared"))
    from avp.config import Settings

    try:
        Settings.from_env({k: str(v) for k, v in env.items()})
    except ValueError as exc:
        raise ConfigError(f"avp would refuse this environment: {exc}") from exc
    # JSON is YAML, and quotes every value as the string an environment variable is.
    env_yaml = json.dumps({k: str(v) for k, v in sorted(env.items())}, indent=1) + "\n"
    mounts = ",".join(f"{name}={secret}:latest" for name, secret in sorted(secrets.items()))
    deploy_env = "".join(f"{k}={shlex.quote(v)}\n" for k, v in (
        ("FUNCTION_SECRETS", mounts), ("BUCKET", bucket), ("BUILD_SERVICE_ACCOUNT", config.get("build_service_account") or "")))
    return env_yaml, deploy_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for env.yaml and deploy.env")
    parser.add_argument("--config", type=Path, help="a JSON file instead of $RUNTIME_CONFIG")
    args = parser.parse_args(argv)
    raw = args.config.read_text(encoding="utf-8") if args.config else os.environ.get("RUNTIME_CONFIG", "")
    try:
        env_yaml, deploy_env = render(json.loads(raw or "null") or {})
    except (ConfigError, ValueError) as exc:
        print(f"runtime config: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "env.yaml").write_text(env_yaml, encoding="utf-8")
    (args.out / "deploy.env").write_text(deploy_env, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
