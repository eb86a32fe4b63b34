"""The signature binding a model file's manifest to its payload (format 2).

The manifest's ``signature`` holds the SHA-256 of ``model.skops`` and of the manifest's
canonical JSON (every field but ``signature``) and, when the setting ``model_key``
(``SEGWISE_MODEL_KEY``) is set, an HMAC-SHA256 of both digests with that key. ``model_files``
signs on save and checks on load.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any

from segwise.config import get_settings
from segwise.errors import InputError

FORMAT = "segwise-model"
SIGNED_SINCE = 2
SIGNATURE = "signature"  # the manifest field holding the digests and the HMAC; not signed itself
RETRAIN = "re-train the model and save it with segwise"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def sign_manifest(manifest: dict[str, Any], model: bytes) -> dict[str, Any]:
    """``manifest`` (a JSON object, as read back) with its ``signature`` for payload ``model``:
    both SHA-256 digests and, when ``SEGWISE_MODEL_KEY`` is set, their HMAC with that key."""
    manifest_digest, model_digest = _digests(manifest, model)
    key = _model_key()
    mac = _mac(key, manifest_digest, model_digest) if key is not None else None
    signature = {"manifest_sha256": manifest_digest, "model_sha256": model_digest}
    return {**manifest, SIGNATURE: {**signature, "hmac_sha256": mac}}


def _digests(manifest: dict[str, Any], model: bytes) -> tuple[str, str]:
    """SHA-256 of the manifest's canonical JSON (all fields but the signature) and of the
    payload."""
    content = {k: v for k, v in manifest.items() if k != SIGNATURE}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    manifest_digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    return manifest_digest, hashlib.sha256(model).hexdigest()


def _mac(key: bytes, manifest_digest: str, model_digest: str) -> str:
    message = f"{FORMAT}/{SIGNED_SINCE}:{manifest_digest}:{model_digest}".encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _model_key() -> bytes | None:
    """This installation's model key (``SEGWISE_MODEL_KEY``), or None when unset or empty."""
    secret = get_settings().model_key
    value = secret.get_secret_value() if secret is not None else ""
    return value.encode("utf-8") if value else None


def check_signature(data: dict[str, Any], model: bytes, path: Path) -> None:
    """Refuse a file whose manifest or payload no longer matches its signature and, with a
    model key, a file not signed with it. Unsigned format-1 files load only without a key."""
    key = _model_key()
    signature = data.get(SIGNATURE)
    if signature is None and data["format_version"] < SIGNED_SINCE:  # format 1: unsigned
        if key is not None:
            raise _not_ours(path)
        return
    if not (
        isinstance(signature, dict)
        and _is_hex64(signature.get("manifest_sha256"))
        and _is_hex64(signature.get("model_sha256"))
        and (signature.get("hmac_sha256") is None or _is_hex64(signature["hmac_sha256"]))
    ):
        raise refuse(
            "model file was changed after it was saved: its signature is missing or malformed",
            path,
            "re-train it",
        )
    manifest_digest, model_digest = _digests(data, model)
    if not (
        hmac.compare_digest(signature["manifest_sha256"], manifest_digest)
        and hmac.compare_digest(signature["model_sha256"], model_digest)
    ):
        what = "manifest" if signature["model_sha256"] == model_digest else "model"
        raise refuse(
            f"model file was changed after it was saved: its {what} does not match its signature",
            path,
            "re-train it",
        )
    if key is None:
        return
    mac = signature.get("hmac_sha256")
    if mac is None or not hmac.compare_digest(mac, _mac(key, manifest_digest, model_digest)):
        raise _not_ours(path)


def _is_hex64(value: Any) -> bool:
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def _not_ours(path: Path) -> InputError:
    return refuse(
        "model file is not signed with this installation's SEGWISE_MODEL_KEY: refused",
        path,
        "it was saved without that key, with another one, or changed since; "
        "re-train it here, or load it where it was saved",
    )


def refuse(message: str, path: Path, hint: str = RETRAIN) -> InputError:
    return InputError(message, file=path, hint=hint)
