"""Catalog entries: databases (to be filled)."""

from __future__ import annotations

from connector._catalog_types import TargetSpec

DATABASE_SPECS: tuple[TargetSpec, ...] = ()
