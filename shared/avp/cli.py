"""The `avp` command."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _up(args) -> int:
    from avp import logs
    from avp.local.emulators import check_prerequisites
    from avp.local.stack import run

    missing = check_prerequisites()
    if missing:
        print("\n".join(missing), file=sys.stderr)
        return 2
    log_file = logs.to_file(Path(args.data_dir).resolve() / "logs" / "avp.log", echo=args.verbose)
    print(f"logs: {log_file}" + ("" if args.verbose else "  (--verbose shows them here)"), flush=True)
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
    from avp.domain.users import ensure_first_admin, find_by_email

    c = container()
    email = args.email or c.settings.admin_email
    generated = ensure_first_admin(c.store, email, c.settings.admin_password)
    where = f"project {c.settings.project_id}" + (" (emulator)" if c.settings.firestore_host else "")
    user = find_by_email(c.store, email)
    if generated:
        print(f"admin {email} created in {where}; password (shown once): {generated}")
    elif user and user.role == "admin":  # find_by_email finds no deleted account
        print(f"admin {email} exists in {where}")
    else:
        print(f"{where} already has an admin: nothing created", file=sys.stderr)
    return 0


def _migrate(args) -> int:
    """Bring a deployment's stored data up to what this version reads; safe to run again."""
    from avp.bootstrap import container
    from avp.domain import migrations

    for line in migrations.run(container().store, every=True):
        print(line)
    return 0


def _watch(args) -> int:
    from avp.watch import watch

    return watch(args.job_id, args.url, args.email, args.password)


class _Version(argparse.Action):
    """`--version`: avp's version and the ffmpeg it runs (checked, so a bad AVP_FFMPEG shows here)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib.metadata import PackageNotFoundError, version

        from avp.media.ffmpeg import FfmpegUnusable, describe

        try:
            own = version("avp")
        except PackageNotFoundError:  # run from a checkout without installing
            own = "(not installed)"
        try:
            media = describe()
        except FfmpegUnusable as exc:
            media = f"ffmpeg unusable: {exc}"
        print(f"avp {own}\n{media}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The `avp` command line: every command and option with its help."""
    parser = argparse.ArgumentParser(prog="avp", description="accessible-video platform: captions, audio description "
                                     "and an accessible MP4 from one video, run on this machine")
    parser.add_argument("--version", action=_Version, help="show avp's version and the ffmpeg it uses, then exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="what to do (avp COMMAND --help for its options)")

    up = sub.add_parser("up", help="start the local stack (emulators, gateway, functions, executor) until Ctrl-C",
                        description="Start the whole platform on this machine and serve it until Ctrl-C.")
    up.add_argument("--port", type=int, default=8012, help="port of the API gateway (default: 8012)")
    up.add_argument("--data-dir", default=".avp", help="where the emulators keep their data and the logs go (default: .avp)")
    up.add_argument("-v", "--verbose", action="store_true", help="also print the log lines here (they always go to DATA_DIR/logs)")
    up.set_defaults(func=_up)

    routes = sub.add_parser("routes", help="how many routes of openapi.yaml are implemented",
                            description="Count the routes of openapi.yaml that a function implements.")
    routes.add_argument("-v", "--verbose", action="store_true", help="list every route, marked ok or --")
    routes.set_defaults(func=_routes)

    demo = sub.add_parser("demo", help="run the whole pipeline on a video and write every deliverable",
                          description="Start the local stack, upload a video through the public API, follow the "
                                      "pipeline and download every deliverable plus summary.json.")
    demo.add_argument("video", nargs="?", help="the video or audio file (default: the bundled 30 s sample)")
    demo.add_argument("--language", default="en", help="the source language as a BCP-47 tag (default: en)")
    demo.add_argument("--out", default="demo-out", help="where the deliverables and summary.json go (default: demo-out)")
    demo.add_argument("--data-dir", default=".avp", help="where the emulators keep their data and the logs go (default: .avp)")
    demo.add_argument("--port", type=int, default=0, help="port of the API gateway (default: any free port)")
    demo.add_argument("--json", action="store_true", help="print the summary as JSON on stdout (the display goes to stderr)")
    demo.add_argument("-v", "--verbose", action="store_true", help="also print the log lines (they always go to DATA_DIR/logs)")
    demo.set_defaults(func=_demo)

    watch = sub.add_parser("watch", help="follow a job's status live",
                           description="Sign in and follow one job's status document until the job rests.")
    watch.add_argument("job_id", help="the job to follow")
    watch.add_argument("--url", default="http://127.0.0.1:8012", help="the stack's address (default: http://127.0.0.1:8012)")
    watch.add_argument("--email", default=None, help="your sign-in email (asked for when missing)")
    watch.add_argument("--password", default=None, help="your password (asked for, unechoed, when missing)")
    watch.set_defaults(func=_watch)

    admin = sub.add_parser("bootstrap-admin", help="create the first admin of the configured deployment "
                                                   "(password from AVP_ADMIN_PASSWORD, else generated and shown once)")
    admin.add_argument("--email", default=None, help="the admin's email (default: AVP_ADMIN_EMAIL)")
    admin.set_defaults(func=_bootstrap_admin)
    migrate = sub.add_parser("migrate", help="bring the configured deployment's stored data up to this version "
                                             "(idempotent: run after each deploy)")
    migrate.set_defaults(func=_migrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
