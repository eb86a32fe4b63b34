"""Model files are tamper-evident: the manifest and the payload are bound by a signature.

An edited manifest (labels reversed, a name turned into a script tag) is refused with one line
naming the file; with ``SEGWISE_MODEL_KEY`` set, only files signed with that key load.
Names, labels and advice must be plain one-line text.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from segwise import service
from segwise.config import get_settings
from segwise.demo import generate_log, write_log
from segwise.errors import InputError
from segwise.segment.pipeline import Segmentation
from segwise.store.model_files import FORMAT_VERSION, SIGNATURE, load_model, sign_manifest

CHANGED = "model file was changed after it was saved: its manifest does not match its signature"
NOT_OURS = "model file is not signed with this installation's SEGWISE_MODEL_KEY"


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("integrity")
    return write_log(generate_log(600, seed=5).lines, folder / "shop.csv", style="us")


@pytest.fixture(scope="module")
def seg(log: Path) -> Segmentation:
    return service.segment(log)


@pytest.fixture
def saved(seg: Segmentation, tmp_path: Path) -> Path:
    return service.save_segment_model(seg, tmp_path / "m.skops")


def set_key(monkeypatch: pytest.MonkeyPatch, key: str | None) -> None:
    if key is None:
        monkeypatch.delenv("SEGWISE_MODEL_KEY", raising=False)
    else:
        monkeypatch.setenv("SEGWISE_MODEL_KEY", key)
    get_settings.cache_clear()


def rewrite(
    source: Path,
    target: Path,
    edit: Callable[[dict[str, Any]], None],
    *,
    resign: bool = False,
) -> Path:
    """Copy a model file entry by entry, with its manifest changed by ``edit`` (and signed
    again, with this installation's key, when ``resign``)."""
    with zipfile.ZipFile(source) as archive:
        files = {info.filename: archive.read(info) for info in archive.infolist()}
    manifest = json.loads(files["manifest.json"])
    edit(manifest)
    if resign:
        manifest = sign_manifest(manifest, files["model.skops"])
    files["manifest.json"] = json.dumps(manifest, indent=2).encode()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return target


def refused(cli: Any, model: Path, log: Path) -> str:
    """``segwise predict``'s refusal: exit 2, one line naming the file, nothing predicted."""
    result = cli("predict", model, log, "--json")
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines: list[str] = result.stderr.strip().splitlines()
    assert len(lines) == 1 and model.name in lines[0], result.stderr
    assert result.stdout == ""
    return lines[0]


def predictions(cli: Any, model: Path, log: Path) -> list[dict[str, Any]]:
    result = cli("predict", model, log, "--json")
    assert result.exit_code == 0, result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)["predictions"]
    return found


# -- edited manifests ------------------------------------------------------------------------


def test_reversed_labels_refused(cli: Any, saved: Path, log: Path, tmp_path: Path) -> None:
    def reverse(manifest: dict[str, Any]) -> None:
        manifest["labels"] = manifest["labels"][::-1]

    line = refused(cli, rewrite(saved, tmp_path / "reversed.skops", reverse), log)
    assert CHANGED in line and "re-train it" in line


def test_script_name_refused(cli: Any, saved: Path, log: Path, tmp_path: Path) -> None:
    def script(manifest: dict[str, Any]) -> None:
        manifest["names"][0] = "<script>alert(1)</script>"

    line = refused(cli, rewrite(saved, tmp_path / "script.skops", script), log)
    assert CHANGED in line and "<script>" not in line


def test_changed_payload_or_removed_signature_refused(saved: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(saved) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    other = tmp_path / "other-payload.skops"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("manifest.json", files["manifest.json"])
        archive.writestr("model.skops", files["model.skops"] + b"\0")  # zip tolerates junk
    with pytest.raises(InputError, match="its model does not match its signature"):
        load_model(other)

    def unsign(manifest: dict[str, Any]) -> None:
        del manifest[SIGNATURE]

    bare = rewrite(saved, tmp_path / "unsigned.skops", unsign)
    with pytest.raises(InputError, match="signature is missing or malformed"):
        load_model(bare)


# -- the installation's key ------------------------------------------------------------------


def test_model_key(
    cli: Any, seg: Segmentation, log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_key(monkeypatch, None)
    unkeyed = service.save_segment_model(seg, tmp_path / "unkeyed.skops")
    set_key(monkeypatch, "another installation's key")
    other = service.save_segment_model(seg, tmp_path / "other.skops")
    set_key(monkeypatch, "this installation's key")
    keyed = service.save_segment_model(seg, tmp_path / "keyed.skops")

    assert NOT_OURS in refused(cli, unkeyed, log)
    assert NOT_OURS in refused(cli, other, log)
    assert len(predictions(cli, keyed, log)) == 600

    # with the key, an edit is refused even when the editor recomputes the plain digests
    def reverse(manifest: dict[str, Any]) -> None:
        manifest["labels"] = manifest["labels"][::-1]

    set_key(monkeypatch, None)
    forged = rewrite(keyed, tmp_path / "forged.skops", reverse, resign=True)
    load_model(forged)  # without a key, recomputed digests pass: the key is what protects
    set_key(monkeypatch, "this installation's key")
    assert NOT_OURS in refused(cli, forged, log)

    set_key(monkeypatch, None)  # a keyed file still loads where no key is set
    assert len(predictions(cli, keyed, log)) == 600


# -- untouched and earlier files -------------------------------------------------------------


def test_untouched_file_loads_and_predicts(
    cli: Any, saved: Path, seg: Segmentation, log: Path
) -> None:
    pipeline, manifest = load_model(saved)
    assert pipeline.steps[-1][0] == "cluster"
    assert manifest.format_version == FORMAT_VERSION == 2
    with zipfile.ZipFile(saved) as archive:
        signature = json.loads(archive.read("manifest.json"))[SIGNATURE]
    assert set(signature) == {"manifest_sha256", "model_sha256", "hmac_sha256"}
    assert signature["hmac_sha256"] is None  # no key set
    found = predictions(cli, saved, log)
    assert len(found) == 600
    assert {p["segment_name"] for p in found} <= set(seg.names)


def test_format_1_files_load_without_a_key_only(
    cli: Any, saved: Path, log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def as_format_1(manifest: dict[str, Any]) -> None:
        del manifest[SIGNATURE]
        manifest["format_version"] = 1

    old = rewrite(saved, tmp_path / "v1.skops", as_format_1)
    assert len(predictions(cli, old, log)) == 600  # old runs keep working, unchecked
    set_key(monkeypatch, "this installation's key")
    assert NOT_OURS in refused(cli, old, log)


# -- names are plain text --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("names", "Champions\x1b[2J", "name 1 holds control characters"),
        ("names", "Champions\nLost", "name 1 holds control characters"),
        ("names", "x" * 201, "name 1 is 201 characters, more than 200"),
        ("names", 7, "name 1 is not text"),
        ("recommendations", "Call \u202eevil", "recommendation 1 holds control characters"),
        ("recommendations", "y" * 2_001, "recommendation 1 is 2,001 characters"),
        ("labels", "0\x00", "label 1 holds control characters"),
    ],
)
def test_names_must_be_plain_text(
    field: str, value: Any, expected: str, saved: Path, tmp_path: Path
) -> None:
    def edit(manifest: dict[str, Any]) -> None:
        manifest[field][0] = value

    path = rewrite(saved, tmp_path / "text.skops", edit, resign=True)  # signed: text checked
    with pytest.raises(InputError) as caught:
        load_model(path)
    text = str(caught.value)
    assert "invalid model manifest" in text and expected in text and "\x1b" not in text
    assert "\n" not in text and path.name in text


def test_one_name_per_distinct_label(saved: Path, tmp_path: Path) -> None:
    def drop(manifest: dict[str, Any]) -> None:
        manifest["names"] = manifest["names"][:-1]

    def repeat(manifest: dict[str, Any]) -> None:
        manifest["labels"][1] = manifest["labels"][0]

    for edit, expected in [(drop, "names for"), (repeat, "labels are not distinct")]:
        path = rewrite(saved, tmp_path / "count.skops", edit, resign=True)
        with pytest.raises(InputError, match=expected):
            load_model(path)


def test_save_refuses_names_load_would_refuse(seg: Segmentation, tmp_path: Path) -> None:
    bad = replace(seg, names=["Champions\r\n", *seg.names[1:]])
    with pytest.raises(InputError, match=r"cannot save the model: .*control characters"):
        service.save_segment_model(bad, tmp_path / "bad.skops")
    assert not (tmp_path / "bad.skops").exists()
