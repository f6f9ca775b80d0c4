"""The one base class of every error dsforge can foresee (a bad recipe, bad input, a missing model or key,
a full disk, a damaged run folder). The CLI prints such an error as one line plus its `hint` (what to
type next) and exits 2; anything else is a bug and keeps its traceback.

Not here: the errors themselves (each lives beside the code that raises it) or how they are printed (cli.py).
"""

from __future__ import annotations


class DsforgeError(Exception):
    """A foreseeable error: `str(e)` says what is wrong, `hint` what to do about it (may be empty)."""

    hint: str = ""

    def __init__(self, message: str = "", hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __reduce__(self):  # keeps the hint when a worker process sends the error back
        return (type(self), (str(self), self.hint))


class PartChangedError(DsforgeError):
    """A step's part file differs from what the step recorded when it wrote it."""

    hint = "run the same command again: the changed step is recomputed"


class DiskFullError(DsforgeError):
    """No space left while writing a file of the run."""

    hint = "free some space (or give --out a bigger disk) and run again: finished steps are reused"


class UnsafePathError(DsforgeError):
    """A path dsforge would write through is a symbolic link."""

    hint = "remove the link (dsforge never writes through links inside its output folder) and run again"


class UsageError(DsforgeError):
    """A command line that cannot work (a bad option value, a folder where a file is needed)."""

    hint = "see dsforge COMMAND --help"


class PrefectUnreachableError(DsforgeError):
    """The Prefect API (a configured server, or the temporary local one) does not answer."""

    hint = "start the server (prefect server start) or use --no-prefect"


class NothingToSaveError(DsforgeError):
    """Every row was rejected before the step that writes the dataset."""

    hint = "see why in RUN/rejected.parquet (or dsforge review RUN) and loosen the step that dropped them"


class WorkerDiedError(DsforgeError):
    """A worker process ended without finishing its task (killed, out of memory)."""

    hint = "run the same command again: finished parts are kept and the run resumes"
