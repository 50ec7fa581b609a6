"""Resolutions read by more than one test module (session-scoped: each input is resolved once
per session, not once per module that reads it)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.resolution import ResolutionConfig, resolve_mentions
from tests.resolution.test_rules import (
    CASES,
    CO_PARTIES_CASE,
    LINK_FLOOR,
    TIED_DETAILS_CASE,
    _background,
    _surname_cases,
)


@pytest.fixture(scope="session")
def resolution():
    """One Splink model trained on the background population with every rule's case, the
    surname cases and the parties of one crime in it (each case used to train a model of its
    own on the same background); pairs kept down to 1e-6 so that the surname test can read
    the weights of its pairs, and links between people down to LINK_FLOOR for the confidence
    test (neither changes who is joined: the clustering reads pairs above the match threshold
    only)."""
    rows = _background(np.random.default_rng(11)) + CASES + _surname_cases() + CO_PARTIES_CASE
    config = ResolutionConfig(keep_pairs_above=1e-6, link_floor=LINK_FLOOR)
    return resolve_mentions(pd.DataFrame(rows), config)


@pytest.fixture(scope="session")
def small_rows() -> pd.DataFrame:
    """800 background people with every rule's case and the tied details: the small input
    of the tests of what a resolution outputs, by the DataFrame path, by the warehouse path
    and in reverse order, and of the test that links are only made when asked for."""
    return pd.DataFrame(_background(np.random.default_rng(5))[:800] + CASES + TIED_DETAILS_CASE)


@pytest.fixture(scope="session")
def small_resolution(small_rows: pd.DataFrame):
    """The small input resolved in memory with the default settings (one model for the
    tests that read it)."""
    return resolve_mentions(small_rows.copy())
