"""The REST API of ``segwise serve`` (FastAPI): thin routes over ``segwise.service``."""

from segwise.api.app import create_app

__all__ = ["create_app"]
