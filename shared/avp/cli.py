"""The `avp` command."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _up(args) -> int:
    from avp.local.emulators import check_prerequisites
    from avp.local.stack import run

    missing = check_prerequisites()
    if missing:
        print("\n".join(missing), file=sys.stderr)
        return 2
    return run(Path(args.data_dir), args.port)


def _routes(args) -> int:
    from avp.local.gateway import Gateway

    gateway = Gateway()
    if args.verbose:
        for r in sorted(gateway.routes, key=lambda r: (r.template, r.method)):
            print(f"{'ok ' if gateway.implemented(r) else '-- '} {r.method:6} {r.template}  [{r.function}]")
    done, total = gateway.coverage()
    print(f"{done}/{total} routes implemented")
    return 0


def _demo(args) -> int:
    from avp.demo import main as demo_main

    return demo_main(args)


def _bootstrap_admin(args) -> int:
    """The first admin of a deployment's Firestore (the local stack makes its own at start-up; in
    the cloud nothing does): run once after the first deploy, as someone whose credentials may
    write the project's Firestore (Application Default Credentials, AVP_ENV=cloud)."""
    from avp.bootstrap import container
    from avp.domain.users import ensure_first_admin

    c = container()
    email = args.email or c.settings.admin_email
    generated = ensure_first_admin(c.store, email, c.settings.admin_password)
    where = f"project {c.settings.project_id}" + (" (emulator)" if c.settings.firestore_host else "")
    if generated:
        print(f"admin {email} created in {where}; password (shown once): {generated}")
    elif c.store.find_one("users", [("email", "==", email), ("role", "==", "admin"), ("deleted", "==", False)]):
        print(f"admin {email} exists in {where}")
    else:
        print(f"{where} already has an admin: nothing created", file=sys.stderr)
    return 0


def _watch(args) -> int:
    from avp.watch import watch

    return watch(args.job_id, args.url, args.email, args.password)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="avp", description="accessible-video platform")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start the local stack (emulators, gateway, functions, executor)")
    up.add_argument("--port", type=int, default=8012)
    up.add_argument("--data-dir", default=".avp")
    up.set_defaults(func=_up)

    routes = sub.add_parser("routes", help="how many routes of openapi.yaml are implemented")
    routes.add_argument("-v", "--verbose", action="store_true")
    routes.set_defaults(func=_routes)

    demo = sub.add_parser("demo", help="run the whole pipeline on a video and write every deliverable")
    demo.add_argument("video", nargs="?")
    demo.add_argument("--language", default="en", help="the source language (BCP-47)")
    demo.add_argument("--out", default="demo-out")
    demo.add_argument("--data-dir", default=".avp")
    demo.add_argument("--port", type=int, default=0)
    demo.set_defaults(func=_demo)

    watch = sub.add_parser("watch", help="follow a job's status live")
    watch.add_argument("job_id")
    watch.add_argument("--url", default="http://127.0.0.1:8012")
    watch.add_argument("--email", default=None)
    watch.add_argument("--password", default=None)
    watch.set_defaults(func=_watch)

    admin = sub.add_parser("bootstrap-admin", help="create the first admin of the configured deployment "
                                                   "(password from AVP_ADMIN_PASSWORD, else generated and shown once)")
    admin.add_argument("--email", default=None, help="default: AVP_ADMIN_EMAIL")
    admin.set_defaults(func=_bootstrap_admin)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
