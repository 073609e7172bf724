"""Reuse as a library: the wheel carries the function code, and an installed copy deploys (under mocks).

The wheel is built offline (``pip wheel --no-build-isolation``: hatchling is in the dev venv) and installed into a
fresh venv in a temporary directory. That venv reaches the already-installed Pulumi SDKs through a ``.pth`` line
naming the dev venv's site-packages (a directory added that way has its own ``.pth`` files ignored, so the
repository's editable install is *not* active there). The probe runs with ``python -I`` from outside the
repository and reports where everything was imported from.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import json, stat, sys, zipfile
    from pathlib import Path
    import pulumi

    import streaming_bedrock_api
    from streaming_bedrock_api import StreamingBedrockApi
    from streaming_bedrock_api.packaging import function_source_dir

    class Mocks(pulumi.runtime.Mocks):
        def __init__(self):
            self.records = []
        def call(self, args):
            return {"region": "eu-west-1", "name": "eu-west-1", "accountId": "111122223333",
                    "partition": "aws", "arn": "arn:aws:iam::111122223333:user/x", "userId": "x"}, []
        def new_resource(self, args):
            self.records.append((args.typ, args.inputs))
            state = dict(args.inputs)
            state.update({"arn": "arn:aws:lambda:eu-west-1:111122223333:function:f", "name": args.name,
                          "responseStreamingInvokeArn": "arn:x/response-streaming-invocations",
                          "executionArn": "arn:aws:execute-api:eu-west-1:111122223333:abc",
                          "rootResourceId": "root", "invokeUrl": "https://abc.example/prod"})
            return args.name + "-id", state

    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="consumer", stack="dev", preview=False)
    urls = []

    @pulumi.runtime.test
    def program():
        api = StreamingBedrockApi("consumer", {"model_id": "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
                                               "auth": "none"})
        return api.url.apply(urls.append)

    program()
    code = next(inputs["code"] for typ, inputs in mocks.records if typ == "aws:lambda/function:Function")
    with zipfile.ZipFile(code.path) as archive:
        wrapper_mode = stat.S_IMODE(archive.getinfo("exec-wrapper").external_attr >> 16)
        names = archive.namelist()
    print(json.dumps({
        "package": streaming_bedrock_api.__file__,
        "function_source": str(function_source_dir()),
        "sys_path": sys.path,
        "records": len(mocks.records),
        "zip": code.path,
        "wrapper_mode": wrapper_mode,
        "has_handler": "bedrock_stream/handler.py" in names,
        "urls": urls,
    }))
    """
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        timeout=120,
    )
    (built,) = out.glob("streaming_bedrock_api-*.whl")
    return built


def test_the_readmes_name_the_wheel_python_m_build_writes(wheel: Path) -> None:
    for readme in (ROOT / "README.md", ROOT / "components" / "README.md"):
        assert f"pip install dist/{wheel.name}" in readme.read_text(), readme


def test_wheel_carries_the_function_and_no_generic_top_level_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    tops = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith((".dist-info", ".data"))}
    assert tops == {"streaming_bedrock_api", "streaming_bedrock_local"}
    assert "streaming_bedrock_api/_function/exec-wrapper" in names
    assert "streaming_bedrock_api/_function/bedrock_stream/handler.py" in names
    assert "streaming_bedrock_api/component.py" in names
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)


@pytest.mark.slow
def test_installed_wheel_deploys_outside_the_repository(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "consumer-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True, timeout=60,
        ).stdout.strip()
    )
    (site / "dev-sdks.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
         str(wheel)],
        check=True, timeout=120,
    )
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    result = subprocess.run(
        [str(python), "-I", str(probe)], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])

    assert Path(report["package"]).is_relative_to(venv)
    assert Path(report["function_source"]) == Path(report["package"]).parent / "_function"
    repo_paths = [ROOT, ROOT / "components", ROOT / "local", ROOT / "function"]
    for entry in report["sys_path"]:
        assert Path(entry or ".").resolve() not in repo_paths, entry
    assert report["records"] >= 20
    assert report["wrapper_mode"] == 0o755
    assert report["has_handler"] is True
    assert report["urls"] == ["https://abc.example/prod/stream"]
