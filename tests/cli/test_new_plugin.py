"""`gluellm new-plugin` writes projects that install and pass their own tests as generated.

Each kind is generated into a temporary folder, installed into a throwaway virtualenv
(made with the workspace's uv) together with core and the mock plugin, and its pytest
run in a subprocess. Installs are offline: third-party packages come from the uv cache
at the exact versions of ``uv.lock`` (exported as PEP 751 ``pylock.toml`` files, which
carry each wheel's URL, so uv needs no index); the workspace packages install editable.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gluellm.cli import new_plugin

ROOT = Path(__file__).parents[2]
UV = ROOT / ".tools" / "bin" / "uv"
RUFF = Path(sys.executable).parent / "ruff"
KINDS = [kind.value for kind in new_plugin.Kind]
# What each kind's generated tests must run (a suite that collects nothing passes).
EXPECTED_TESTS = {"transport": 40, "middleware": 2, "store": 3, "workflow": 2}
HOOKS = {
    "transport": ["register_transports"],
    "middleware": ["wrap_call", "wrap_run"],
    "store": ["register_eval_stores"],
    "workflow": ["register_workflows"],
}

needs_uv = pytest.mark.skipif(not UV.exists(), reason="the workspace's uv (make sync) is missing")


def _app() -> typer.Typer:
    app = typer.Typer()
    new_plugin.register(app)

    @app.callback()
    def _root() -> None:  # keeps new-plugin a subcommand
        pass

    return app


def _generate(name: str, kind: str, parent: Path) -> Path:
    result = CliRunner().invoke(_app(), ["new-plugin", name, "--kind", kind, "-d", str(parent)])
    assert result.exit_code == 0, result.output
    project = parent / f"gluellm-plugins-{name}"
    assert str(project) in result.output
    return project


def _uv(*args: str, cwd: Path = ROOT) -> None:
    env = {**os.environ, "UV_OFFLINE": "1", "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        [str(UV), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"uv {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


def _throwaway_venv(tmp_path: Path, project: Path) -> Path:
    """A venv with the project, core and the mock plugin (editable), all offline."""
    venv = tmp_path / "venv"
    _uv("venv", "--quiet", "--python", sys.executable, str(venv))
    python = venv / "bin" / "python"
    locks = tmp_path / "locks"
    locks.mkdir()
    # Third-party dependencies of core + mock, and pytest, at the lock's versions.
    _uv(
        "export", "--frozen", "--format", "pylock.toml", "--package", "gluellm-plugins-mock",
        "--no-emit-workspace", "--no-dev", "-o", str(locks / "pylock.runtime.toml"),
    )  # fmt: skip
    _uv(
        "export", "--frozen", "--format", "pylock.toml", "--package", "gluellm",
        "--only-group", "test", "--no-emit-workspace", "-o", str(locks / "pylock.test.toml"),
    )  # fmt: skip
    for lock in ("pylock.runtime.toml", "pylock.test.toml"):
        _uv("pip", "install", "--quiet", "-p", str(python), "-r", str(locks / lock))
    _uv(
        "pip", "install", "--quiet", "-p", str(python),
        "-e", str(project), "-e", str(ROOT / "core"), "-e", str(ROOT / "plugins" / "mock"),
    )  # fmt: skip
    return python


@needs_uv
@pytest.mark.parametrize("kind", KINDS)
def test_a_generated_project_installs_and_its_tests_pass(kind, tmp_path):
    project = _generate("demo", kind, tmp_path / "out")
    python = _throwaway_venv(tmp_path, project)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLUELLM_", "PYTEST_"))}
    # The project's own tests, from its own folder, in the throwaway venv only.
    done = subprocess.run(
        [str(python), "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-q"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    passed = int(done.stdout.strip().splitlines()[-1].split(" passed")[0].split()[-1])
    assert passed >= EXPECTED_TESTS[kind], done.stdout[-2000:]
    # Installed, the plugin is found through its entry point.
    listed = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; "
         "print([e.value for e in m.entry_points(group='gluellm')])"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "'gluellm_plugins_demo.plugin'" in listed.stdout, listed.stderr


@pytest.mark.skipif(not RUFF.exists(), reason="ruff is not installed")
@pytest.mark.parametrize("kind", KINDS)
def test_a_generated_project_is_lint_clean(kind, tmp_path):
    project = _generate("demo", kind, tmp_path)
    for args in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        done = subprocess.run(
            [str(RUFF), *args], cwd=project, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"ruff {args[0]}:\n{done.stdout}{done.stderr}"


MYPY = Path(sys.executable).parent / "mypy"


@pytest.mark.skipif(not MYPY.exists(), reason="mypy is not installed")
def test_the_generated_packages_pass_mypy_strict(tmp_path):
    projects = {kind: _generate(f"check-{kind}", kind, tmp_path / "out") for kind in KINDS}
    packages = [arg for kind in KINDS for arg in ("-p", f"gluellm_plugins_check_{kind}")]
    done = subprocess.run(
        [str(MYPY), "--strict", "--cache-dir", str(tmp_path / "cache"), *packages],
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": os.pathsep.join(str(p / "src") for p in projects.values())},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues found in 14 source files" in done.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_the_project_has_the_entry_point_hooks_and_tests(kind, tmp_path):
    project = _generate("my-cache", kind, tmp_path)
    pyproject = (project / "pyproject.toml").read_text()
    assert 'name = "gluellm-plugins-my-cache"' in pyproject
    entry_point = 'my-cache = "gluellm_plugins_my_cache.plugin"'
    assert f"[project.entry-points.gluellm]\n{entry_point}" in pyproject
    plugin = (project / "src" / "gluellm_plugins_my_cache" / "plugin.py").read_text()
    for hook in HOOKS[kind]:
        assert f"@hookimpl\ndef {hook}(" in plugin
    assert list((project / "tests").glob("test_*.py"))
    assert (project / "README.md").read_text().startswith("# gluellm-plugins-my-cache\n")
    assert "{{" not in "".join(p.read_text() for p in project.rglob("*") if p.is_file())


def test_the_generated_hooks_are_real_hooks(tmp_path):
    """Every kind's plugin module registers on a fresh manager (names and arguments real)."""
    import importlib

    from gluellm.plugins import create_plugin_manager

    for kind in KINDS:
        name = f"check-{kind}"
        project = _generate(name, kind, tmp_path)
        sys.path.insert(0, str(project / "src"))
        try:
            module = importlib.import_module(f"gluellm_plugins_check_{kind}.plugin")
            manager = create_plugin_manager(load_entrypoints=False)
            manager.register(module)
            implemented = {
                hook for hook in HOOKS[kind] if getattr(manager.hook, hook).get_hookimpls()
            }
            assert implemented == set(HOOKS[kind])
        finally:
            sys.path.remove(str(project / "src"))
            for loaded in [m for m in sys.modules if m.startswith(f"gluellm_plugins_check_{kind}")]:
                del sys.modules[loaded]


@pytest.mark.parametrize(
    "name", ["Demo", "1demo", "demo_plugin", "demo-", "my--cache", "", "dé mo"]
)
def test_a_bad_name_is_refused_with_the_rule(name, tmp_path):
    result = CliRunner().invoke(_app(), ["new-plugin", name, "-d", str(tmp_path)])
    assert result.exit_code == 1
    assert "lowercase letters and digits" in result.output
    assert not list(tmp_path.iterdir())


def test_an_existing_folder_is_not_overwritten(tmp_path):
    (tmp_path / "gluellm-plugins-demo").mkdir()
    (tmp_path / "gluellm-plugins-demo" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(_app(), ["new-plugin", "demo", "-d", str(tmp_path)])
    assert result.exit_code == 1
    assert "exists already" in result.output
    assert [p.name for p in (tmp_path / "gluellm-plugins-demo").iterdir()] == ["keep.txt"]


def test_an_unknown_kind_is_refused(tmp_path):
    result = CliRunner().invoke(_app(), ["new-plugin", "demo", "--kind", "cache"])
    assert result.exit_code != 0
    assert "transport" in result.output


def test_the_gluellm_cli_offers_new_plugin():
    from gluellm.cli.app import build_app
    from gluellm.plugins import create_plugin_manager

    result = CliRunner().invoke(
        build_app(create_plugin_manager(load_entrypoints=False)), ["new-plugin", "--help"]
    )
    assert result.exit_code == 0, result.output
    for kind in KINDS:
        assert kind in result.output


@needs_uv
def test_the_templates_ship_in_the_core_wheel(tmp_path):
    """An installed (non-editable) gluellm has every template new-plugin reads."""
    import zipfile

    _uv("build", "--quiet", "--wheel", str(ROOT / "core"), "-o", str(tmp_path))
    [wheel] = tmp_path.glob("gluellm-*.whl")
    shipped = {
        name.split("gluellm/cli/templates/", 1)[1]
        for name in zipfile.ZipFile(wheel).namelist()
        if "gluellm/cli/templates/" in name
    }
    templates = ROOT / "core" / "src" / "gluellm" / "cli" / "templates"
    expected = {str(p.relative_to(templates)) for p in templates.rglob("*.j2")}
    assert expected
    assert expected <= shipped
