"""Brian2's global state, kept in one place: preferences, the device, compiled projects.

Brian2 keeps process-wide state — the logging preferences, the active device, one
standalone project per process. Everything in neuro_uhn that touches it goes through this
module: :func:`brian` imports Brian2 with its litter switched off, and :class:`Standalone`
owns the lifecycle of a compiled (``cpp_standalone``/``cuda_standalone``) project —
``start`` (select and reset the device, in a private temp folder), ``compile`` (record the
schedule once and compile), ``run`` (one batch of queries through ``run_args``), ``close``
(remove the folder). After ``compile`` the device is set back to runtime, so later runtime
networks in the same process are unaffected.
"""

from __future__ import annotations

import os
import shutil
import threading
import weakref
from collections.abc import Callable

from ..errors import ValidationError

__all__ = ["brian", "Standalone", "BRIAN_LOCK", "require_compiler"]

#: Held while any network is built or run: Brian2's device, preferences and the random seed
#: (``brian2.seed`` sets NumPy's global generator) are process-wide, so two threads must take
#: turns; before this lock, two SpikingUHN objects run in two threads gave answers that
#: differed from a sequential run, without an error.
BRIAN_LOCK = threading.RLock()


def brian():
    """Brian2, imported with its debug-log file switched off.

    Brian2 opens ``brian_debug_*.log`` and copies the running script to ``brian_script_*.py``
    in the temp folder at import, and keeps both after any error; a library must not litter,
    so the log handler is closed and both files removed. Brian2 also installs its own
    ``sys.excepthook``, which wraps *every* later uncaught error, a user's own typo included,
    in "Brian 2 encountered an unexpected error ... please report"; the previous hook is put
    back. Brian2's note that the memory→output synapses and their targets run on different
    steps is dropped for those synapses only: the output neurons' coarser step
    (``CircuitParams.output_dt``) is by design, and their synapses deliver on the memories'.
    """
    import logging
    import sys

    hook = sys.excepthook
    import brian2 as b2

    if sys.excepthook is not hook:
        sys.excepthook = hook
    from brian2.utils.logger import BrianLogger

    b2.prefs.logging.file_log = False
    b2.prefs.logging.save_script = False
    b2.prefs.logging.std_redirection = False
    if BrianLogger.file_handler is not None:
        BrianLogger.file_handler.close()
        logging.getLogger("brian2").removeHandler(BrianLogger.file_handler)
        BrianLogger.file_handler = None
        for path in (BrianLogger.tmp_log, f"{BrianLogger.tmp_log}.1"):
            if path and os.path.exists(path):
                os.remove(path)
        BrianLogger.tmp_log = None
    if BrianLogger.tmp_script is not None:  # a copy of the user's script, kept after errors
        if os.path.exists(BrianLogger.tmp_script):
            os.remove(BrianLogger.tmp_script)
        BrianLogger.tmp_script = None
    mismatch = logging.getLogger("brian2.synapses.synapses.synapses_dt_mismatch")
    if not any(isinstance(f, _OutputClock) for f in mismatch.filters):
        mismatch.addFilter(_OutputClock())
    return b2


class _OutputClock:
    """A logging filter: drops the dt-mismatch note of the circuit's memory→output
    synapses (``'projection'`` onto ``'outputs'``), keeps every other."""

    def filter(self, record) -> bool:
        message = record.getMessage()
        return not ("'projection'" in message and "'outputs'" in message)


#: Compiled projects live in ``<temp>/neuro_uhn_standalone_<pid>_<random>``.
PROJECT_PREFIX = "neuro_uhn_standalone_"


def remove_stale_projects(folder: str | None = None) -> list[str]:
    """Remove compiled projects whose process no longer exists; returns what was removed.

    A project's folder goes with its network, at exit and after a failed compile, but a
    process killed by a signal (SIGKILL, or SIGTERM without a handler) runs no clean-up;
    the next standalone build in any process removes what such a process left. Only folders
    named with a process id are touched, and only when that process is gone.
    """
    import glob
    import tempfile

    removed = []
    pattern = os.path.join(folder or tempfile.gettempdir(), f"{PROJECT_PREFIX}*_*")
    for path in glob.glob(pattern):
        pid_text = os.path.basename(path)[len(PROJECT_PREFIX) :].split("_", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class Standalone:
    """A compiled standalone project for one network: built once, run per batch.

    Brian2 has one standalone device per process; building a second network resets it, so
    an older standalone SpikingUHN refuses to run afterwards (build it again instead). Every
    network compiles in its own temporary folder, so parallel processes never share one.
    """

    generation = 0

    def __init__(self, device, directory: str, generation: int):
        self.device, self.directory, self.generation = device, directory, generation
        self.inputs = []
        # the compiled project (about 1.6 MB) goes when this object does, or at exit
        self._cleanup = weakref.finalize(self, shutil.rmtree, directory, ignore_errors=True)

    def close(self) -> None:
        """Remove the compiled project's folder now."""
        self._cleanup()

    @classmethod
    def start(cls, b2, target: str, threads: int = 1) -> Standalone:
        """Select the device; ``threads`` > 1 compiles cpp_standalone with OpenMP."""
        import tempfile

        if target == "cuda_standalone":
            import brian2cuda  # noqa: F401  (registers the device)
        b2.set_device(target, build_on_run=False)
        b2.prefs.devices.cpp_standalone.extra_make_args_unix = ["-j", "-s"]  # quiet make
        device = b2.get_device()
        device.reinit()
        device.activate(build_on_run=False)
        # after reinit, which resets the device's preferences
        b2.prefs.devices.cpp_standalone.openmp_threads = threads if threads > 1 else 0
        cls.generation += 1
        remove_stale_projects()
        prefix = f"{PROJECT_PREFIX}{os.getpid()}_"
        return cls(device, tempfile.mkdtemp(prefix=prefix), cls.generation)

    def compile(self, b2, inputs: list, schedule: Callable[[], None], seed: int | None) -> None:
        """Record ``schedule`` (the runs of one batch) once and compile it; ``inputs`` are the
        variables each run sets through ``run_args`` (their values are given per batch)."""
        if seed is not None:
            b2.seed(seed)  # compiled in: every device.run repeats the same noise
        self.inputs = list(inputs)
        try:
            schedule()
            self.device.build(directory=self.directory, compile=True, run=False, with_output=False)
        except BaseException:
            self.close()  # a failed compile leaves no folder behind
            raise
        finally:
            b2.set_device("runtime")  # later runtime networks in this process stay runtime

    def run(self, run_args: dict) -> None:
        """One batch: the compiled schedule with this batch's input values."""
        if self.generation != Standalone.generation:
            raise RuntimeError(
                "a newer standalone network was built in this process since this "
                "one; Brian2 keeps one standalone project at a time: rebuild it"
            )
        self.device.run(directory=self.directory, with_output=False, run_args=run_args)


def require_compiler(target: str) -> None:
    """A clear error, before Brian2 tries, when no C++ compiler is on the PATH."""
    found = [c for c in ("g++", "c++", "clang++") if shutil.which(c)]
    if not found and not os.environ.get("CXX"):
        raise ValidationError(
            f"'target' {target!r} compiles C++ but no compiler (g++, c++, clang++ or $CXX) "
            "was found on the PATH; install one (e.g. apt-get install g++) or use "
            "target='numpy'"
        )
