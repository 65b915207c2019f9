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
import subprocess
import sys
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


def _function_deploys(build: dict[str, Any]) -> list[FunctionDeploy]:
    return [FunctionDeploy(step["args"][2], _flags(step["args"][3:])) for step in build["steps"]
            if step.get("entrypoint") == "gcloud" and step.get("args", [])[:2] == ["functions", "deploy"]]


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


def test_cloudbuild_runs_the_tests_before_shipping() -> None:
    steps = {step["id"]: step for step in _build()["steps"]}
    script = " ".join(steps["test"]["args"])
    assert "pytest" in script and "tests/unit" in script and "tests/contract" in script
    assert "test" in steps["build-media-image"]["waitFor"]
    assert "test" in steps["stage-functions"]["waitFor"]


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
    assert filters == {"type=google.cloud.storage.object.v1.finalized", "bucket=${_BUCKET}"}


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
    assert re.search(r"pip install \.\s*$", text, re.M)
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
