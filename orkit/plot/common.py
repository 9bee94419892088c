"""What every picture shares: a matplotlib Figure made without pyplot (safe in threads, servers and
notebooks alike), a stable colour per item, and bars drawn as one collection (thousands stay fast)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orkit.core.errors import OrkitError

NOTEBOOKS_EXTRA = "pip install 'orkit[notebooks]'"


class PlotError(OrkitError):
    """A picture could not be drawn: matplotlib missing, or nothing to draw."""


def require_matplotlib() -> None:
    """matplotlib is an optional dependency: its absence is a clear error, not an ImportError."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotError(f"pictures need matplotlib: {NOTEBOOKS_EXTRA}") from None


def new_figure(width: float, height: float):
    """A Figure made without pyplot (Agg when saved)."""
    require_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def colour(index: int, palette: str = "tab20") -> Any:
    """The same colour for the same item in every picture of one family."""
    from matplotlib import colormaps

    cmap = colormaps[palette]
    return cmap(index % cmap.N)


def bars(ax, rows: Sequence[float], starts: Sequence[float], widths: Sequence[float], height: float = 0.8,
         **style) -> None:
    """Horizontal bars [start, start + width) centred on row; one PolyCollection, not one artist each."""
    from matplotlib.collections import PolyCollection

    half = height / 2
    boxes = [((s, r - half), (s + w, r - half), (s + w, r + half), (s, r + half))
             for r, s, w in zip(rows, starts, widths)]
    ax.add_collection(PolyCollection(boxes, **style))
    ax.autoscale_view()


def check_target(path: str) -> None:
    """Fail before a long solve, not after it: matplotlib present and the extension a known format."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    folder = Path(path).parent
    if not folder.is_dir():
        raise PlotError(f"{path}: the folder {folder} does not exist")
    extension = path.rpartition(".")[2].lower() if "." in path else ""
    known = FigureCanvasAgg.get_supported_filetypes()
    if extension not in known:
        raise PlotError(f"{path}: unknown picture format {extension!r}; use one of {', '.join(sorted(known))}")


def save(fig, path: str) -> None:
    """Write a Figure to a file whose extension names the format (png, svg, pdf)."""
    try:
        fig.savefig(path, dpi=120)
    except (ValueError, OSError) as exc:
        raise PlotError(f"cannot write the picture to {path}: {exc}") from None
