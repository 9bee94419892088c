"""orkit: declarative models for hard allocation and scheduling problems, solved by a verified
fallback chain (heuristic warm start -> CP-SAT -> MIP) within one time budget."""

from orkit.core.chain import CompiledModel, compile, solve
from orkit.core.errors import BackendError, InstanceError, ModelError, OrkitError
from orkit.core.registry import load
from orkit.core.result import Evaluation, Progress, Result, Sense, StageRecord, Status, Stop
from orkit.models.rcpsp import RCPSP, Downtime, RCPSPSolution
from orkit.models.tardiness import Criterion, Sequence, SingleMachine

__version__ = "0.1.0"

__all__ = [
    "RCPSP", "BackendError", "CompiledModel", "Criterion", "Downtime", "Evaluation", "InstanceError", "ModelError",
    "OrkitError", "Progress", "RCPSPSolution", "Result", "Sense", "Sequence", "SingleMachine", "StageRecord",
    "Status", "Stop", "bench", "compile", "load", "solve",
]


def __getattr__(name: str):
    """`orkit.bench` loads the batch runner (and pandas) only when used, so `import orkit` stays fast."""
    if name == "bench":
        from orkit.batch import bench

        return bench
    raise AttributeError(f"module 'orkit' has no attribute {name!r}")
