"""Model files that are safe to load: a zip holding ``manifest.json`` and ``model.skops``.

A fitted pipeline is saved with skops, never pickle: loading a pickle runs whatever code the
file names. ``load_model`` refuses, with one ``InputError`` line naming the file, pickle and
joblib files, zips that are not segwise models, damaged archives, models that hold a type
outside ``TRUSTED_TYPES``, and models saved by a newer segwise or another scikit-learn
major.minor (fitted estimators are not portable across those). Decision trees, which skops
does not trust because their node indices are used unchecked, are trusted only after their
nodes are checked. Files are written atomically: temp file in the same folder, then rename.

The manifest and the payload are bound together (format 2, ``model_signing``): SHA-256
digests of both and, with ``SEGWISE_MODEL_KEY``, their HMAC. A file whose manifest or payload
changed after it was saved is refused; with a key, so is a file not signed with it. Format 1
files (unsigned) still load when no key is set, with no integrity claim. Names, labels and
advice must be plain one-line text of a sane length; escaping them for HTML is the renderers'
job.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import zipfile
import zlib
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import sklearn
import skops
import skops.io as sio

import segwise
from segwise.errors import InputError
from segwise.io.atomic import atomic_path
from segwise.store.model_checks import (
    centres_problem,
    check_text,
    fitted_preprocessor,
    trees_problem,
)
from segwise.store.model_signing import (
    FORMAT,
    RETRAIN,
    SIGNATURE,
    check_signature,
    refuse,
    sign_manifest,
)

__all__ = ["FORMAT", "FORMAT_VERSION", "TRUSTED_TYPES", "Manifest", "ModelKind", "data_hash"]
__all__ += ["SIGNATURE", "feature_specs", "load_model", "save_model", "sign_manifest"]

ModelKind = Literal["segment", "target"]

FORMAT_VERSION = 2  # 2: the manifest carries a signature; 1 (unsigned) still loads without a key
MANIFEST_NAME = "manifest.json"
MODEL_NAME = "model.skops"
MAX_MANIFEST_BYTES = 16 * 1024**2
MAX_MODEL_BYTES = 2 * 1024**3

#: Types a segwise model may hold beyond those skops trusts by default. Derived by dumping a
#: fitted segment pipeline (k fixed and k="auto") and classifier pipelines (random forest,
#: logistic regression) over numeric, yes/no, ordered, banded, categorical and incomplete
#: columns, and listing ``skops.io.get_untrusted_types``. Review any addition: each entry
#: lets a file rebuild objects of that class.
TRUSTED_TYPES: list[str] = [
    "segwise.features.columns.ColumnCoder",
    "segwise.features.columns.FeatureSpec",
    "segwise.features.ordinal.LevelMap",
    "segwise.features.prepare.PrepReport",
    "segwise.features.prepare.Preprocessor",
    "segwise.segment.cluster.SegmentClusterer",
    "segwise.segment.kselect.KScore",
    "segwise.segment.kselect.KSelection",
    "sklearn.tree._tree.Tree",  # random forests; nodes checked after loading (_check_trees)
]

_PICKLE_PROTOCOLS = range(2, 6)
_COMPRESSED = {  # joblib.dump(..., compress=...) wraps its pickle in one of these
    **{b"\x78": "zlib", b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ": "xz"},
    **{b"\x5d\x00\x00": "lzma", b"\x04\x22\x4d\x18": "lz4"},
}
_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {  # the others are str
    **dict.fromkeys(("features", "metrics", "extra"), dict),
    **dict.fromkeys(("labels", "names", "recommendations"), list),
    "target": (str, type(None)),
    "format_version": int,
}
_FEATURE_KINDS = ("number", "binary", "ordinal", "category")
#: Characters no name, label or advice may hold: C0/C1 controls (newlines, escapes, NUL),
#: line and paragraph separators and the bidi controls that reorder what a reader sees.


@dataclass(frozen=True)
class Manifest:
    """What a model file says about itself: kind, versions, inputs, training data, results.

    ``features`` maps each input column to its ``FeatureSpec.to_dict()`` (kind, levels,
    minimum, maximum), which prediction checks rows against; ``labels`` are the class labels
    (segment ids for a segment model) and ``names`` their display names.
    """

    kind: ModelKind
    features: dict[str, dict[str, Any]]
    data_hash: str
    metrics: dict[str, Any] = field(default_factory=dict)
    labels: list[Any] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    recommendations: list[str] = field(default_factory=list)
    target: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    segwise_version: str = segwise.__version__
    sklearn_version: str = sklearn.__version__
    skops_version: str = skops.__version__
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (numpy values become plain numbers, NaN becomes None)."""
        plain: dict[str, Any] = _plain(asdict(self))
        return plain

    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        """Read a manifest; ``ValueError`` naming the first field that is absent or wrong."""
        if not isinstance(data, dict):
            raise ValueError("the manifest is not a JSON object")
        for f in fields(cls):
            if f.name not in data:
                raise ValueError(f"the manifest has no '{f.name}'")
            if not isinstance(data[f.name], _FIELD_TYPES.get(f.name, str)):
                raise ValueError(f"the manifest's '{f.name}' is {data[f.name]!r}")
        if data["kind"] not in get_args(ModelKind):
            raise ValueError(f"the manifest's kind is {data['kind']!r}, not segment or target")
        for name, spec in data["features"].items():
            if not isinstance(spec, dict) or spec.get("kind") not in _FEATURE_KINDS:
                raise ValueError(f"the manifest's spec of feature '{name}' is {spec!r}")
        check_text(data["labels"], data["names"], data["recommendations"])
        return cls(**{f.name: data[f.name] for f in fields(cls)})


def feature_specs(estimator: Any) -> dict[str, dict[str, Any]]:
    """Input columns of a fitted pipeline and what each accepts, for ``Manifest.features``."""
    prep = fitted_preprocessor(estimator)
    if prep is None:
        raise TypeError("the estimator has no fitted segwise Preprocessor step")
    return {name: spec.to_dict() for name, spec in prep.feature_schema_.items()}


def data_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's column names, index and values: which data a model learned from."""
    digest = hashlib.sha256(json.dumps([str(c) for c in frame.columns]).encode())
    # the index (customer ids) as text, one join: pandas hashes Arrow-backed text row by row,
    # 4x slower on 338k ids
    digest.update("\0".join(map(str, frame.index.tolist())).encode("utf-8", "surrogatepass"))
    try:
        rows = pd.util.hash_pandas_object(frame, index=False)
    except TypeError:  # unhashable cells (lists, dicts): hash their text
        rows = pd.util.hash_pandas_object(frame.astype(str), index=False)
    digest.update(rows.to_numpy().tobytes())
    return digest.hexdigest()


def save_model(path: str | Path, estimator: Any, manifest: Manifest) -> Path:
    """Write ``estimator`` and ``manifest`` as one model file, atomically.

    Raises ``TypeError`` when the estimator holds a type outside ``TRUSTED_TYPES``, and
    ``InputError`` when a label, name or recommendation is not plain text, since
    ``load_model`` would refuse the file. The manifest is signed (``sign_manifest``) with
    this installation's ``SEGWISE_MODEL_KEY`` when one is set.
    """
    path = Path(path)
    model = sio.dumps(estimator)
    refused = [name for name in sio.get_untrusted_types(data=model) if name not in TRUSTED_TYPES]
    if refused:
        raise TypeError(
            f"cannot save a model holding types segwise does not trust: {', '.join(refused)}; "
            "review them and add them to segwise.store.model_files.TRUSTED_TYPES"
        )
    content = {**manifest.to_dict(), "format_version": FORMAT_VERSION}
    try:
        Manifest.from_dict(content)
    except ValueError as error:
        raise InputError(
            f"cannot save the model: {error}",
            file=path,
            hint="names, labels and advice must be plain one-line text",
        ) from None
    content = json.loads(json.dumps(content, allow_nan=False))  # exactly what load will read
    text = json.dumps(sign_manifest(content, model), indent=2, ensure_ascii=False, allow_nan=False)
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST_NAME, text)
        archive.writestr(MODEL_NAME, model)
    return path


def load_model(path: str | Path) -> tuple[Any, Manifest]:
    """Read a model file written by ``save_model``, refusing anything unsafe or unusable."""
    path = Path(path)
    if not path.is_file():
        raise InputError("model file not found", file=path, hint="check the path")
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as error:
        hint = "check that the file is readable"
        raise refuse(f"cannot read model file: {error.strerror}", path, hint) from None
    _check_header(head, path)
    try:
        with zipfile.ZipFile(path) as archive:
            raw, manifest = _read_manifest(archive, path)
            model = _read_member(archive, MODEL_NAME, MAX_MODEL_BYTES, path)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError) as error:
        raise _damaged(path, error) from None
    check_signature(raw, model, path)
    _check_versions(manifest, path)
    try:
        untrusted = sio.get_untrusted_types(data=model)
    except Exception as error:  # a malformed schema can fail in many ways; none is a bug here
        raise _damaged(path, error) from None
    refused = [name for name in untrusted if name not in TRUSTED_TYPES]
    if refused:
        raise InputError(
            f"model holds types segwise does not trust: {', '.join(refused)}; refused",
            file=path,
            hint=f"only models made by segwise load; {RETRAIN}",
        )
    try:
        estimator = sio.loads(model, trusted=TRUSTED_TYPES)
    except Exception as error:  # same reason: the file, not segwise, is at fault
        raise _damaged(path, error) from None
    _check_estimator(estimator, manifest, path)
    return estimator, manifest


def _check_header(head: bytes, path: Path) -> None:
    """Refuse empty, pickle, joblib and other non-zip files before opening them."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return
    if not head:
        raise refuse("model file is empty", path)
    if head[:1] == b"\x80" and head[1:2] and head[1] in _PICKLE_PROTOCOLS:
        raise refuse("model file is a pickle file, which can run code when loaded: refused", path)
    for magic, name in _COMPRESSED.items():
        if head.startswith(magic):
            raise refuse(
                f"model file is {name}-compressed (a joblib or pickle file, which can run "
                "code when loaded): refused",
                path,
            )
    raise refuse(
        "not a segwise model file (not a zip archive; pickle and joblib files are refused)", path
    )


def _read_manifest(archive: zipfile.ZipFile, path: Path) -> tuple[dict[str, Any], Manifest]:
    names = set(archive.namelist())
    if MANIFEST_NAME not in names or MODEL_NAME not in names:
        what = "a bare skops file" if "schema.json" in names else "a zip archive"
        raise refuse(
            f"not a segwise model file: {what} without {MANIFEST_NAME} and {MODEL_NAME}", path
        )
    raw = _read_member(archive, MANIFEST_NAME, MAX_MANIFEST_BYTES, path)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise refuse(f"not a segwise model file: {MANIFEST_NAME} is not valid JSON", path) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise refuse(
            f"not a segwise model file: {MANIFEST_NAME} does not say format '{FORMAT}'", path
        )
    version = data.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise InputError(
            f"model file format {version} is newer than this segwise reads ({FORMAT_VERSION})",
            file=path,
            hint="upgrade segwise",
        )
    try:
        return data, Manifest.from_dict(data)
    except ValueError as error:
        raise refuse(f"invalid model manifest: {error}", path) from None


def _read_member(archive: zipfile.ZipFile, name: str, limit: int, path: Path) -> bytes:
    """One archive member's bytes, refusing members larger than ``limit`` unread."""
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise refuse(
            f"model file's {name} is {info.file_size:,} bytes, more than the {limit:,} allowed",
            path,
        )
    return archive.read(info)


def _check_versions(manifest: Manifest, path: Path) -> None:
    """Refuse models from a newer segwise or another scikit-learn major.minor."""
    saved, here = _major_minor(manifest.segwise_version), _major_minor(segwise.__version__)
    if saved is None:
        raise refuse(f"invalid model manifest: segwise version {manifest.segwise_version!r}", path)
    if here is not None and saved > here:
        raise InputError(
            f"model saved with segwise {manifest.segwise_version}, this is "
            f"{segwise.__version__}: refused",
            file=path,
            hint="upgrade segwise, or re-train the model with this version",
        )
    saved, here = _major_minor(manifest.sklearn_version), _major_minor(sklearn.__version__)
    if saved is None or saved != here:
        shown = ".".join(map(str, saved)) if saved else repr(manifest.sklearn_version)
        this = ".".join(map(str, here)) if here else sklearn.__version__
        raise InputError(
            f"model saved with scikit-learn {shown}, this is {this}: refused",
            file=path,
            hint="re-train the model with this version (fitted models do not carry over)",
        )


def _major_minor(version: str) -> tuple[int, int] | None:
    found = re.match(r"^\s*(\d+)\.(\d+)", version)
    return (int(found[1]), int(found[2])) if found else None


def _check_estimator(estimator: Any, manifest: Manifest, path: Path) -> None:
    """The loaded object is a segwise pipeline matching its manifest, with sound trees."""
    prep = fitted_preprocessor(estimator)
    if prep is None or not hasattr(estimator, "predict"):
        raise refuse("not a segwise model: the file holds no fitted segwise pipeline", path)
    if list(prep.feature_schema_) != list(manifest.features):
        raise refuse(
            "model file is inconsistent: its manifest lists other columns than its model", path
        )
    problem = trees_problem(estimator) or centres_problem(estimator, prep, len(manifest.labels))
    if problem:
        raise refuse(f"model file is damaged: {problem}", path)


def _damaged(path: Path, error: BaseException) -> InputError:
    detail = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
    hint = "copy it again or re-train the model"
    return refuse(f"model file is damaged or truncated: {detail}", path, hint)


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars and arrays as Python values and NaN/inf as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
