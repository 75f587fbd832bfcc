"""MediaNest as `bench/auth.py` runs it: `uvicorn --factory auth_app:app`, settings from the env."""

from __future__ import annotations

from fastapi import FastAPI

from medianest.app import create_app
from medianest.config import load_settings


def app() -> FastAPI:
    return create_app(load_settings())
