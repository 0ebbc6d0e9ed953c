import hashlib
import os

import numpy as np
import pytest

BACKENDS = ["numpy", "array_api_strict"]
try:  # optional
    import torch  # noqa: F401

    BACKENDS.append("torch")
except ImportError:
    pass


@pytest.fixture(params=BACKENDS)
def xp(request):
    """Array namespaces to run array-API code on (torch only when installed)."""
    if request.param == "numpy":
        return np
    if request.param == "array_api_strict":
        import array_api_strict

        return array_api_strict
    import array_api_compat.torch as xtorch

    return xtorch


@pytest.fixture
def rng(request):
    """A generator seeded from the test's id (and NEURO_UHN_SEED), so failures reproduce."""
    salt = os.environ.get("NEURO_UHN_SEED", "0")
    digest = hashlib.sha256(f"{request.node.nodeid}:{salt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))
