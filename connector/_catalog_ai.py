"""Catalog entries: ai (to be filled)."""

from __future__ import annotations

from connector._catalog_types import TargetSpec

AI_SPECS: tuple[TargetSpec, ...] = ()
