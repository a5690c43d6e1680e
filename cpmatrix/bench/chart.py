"""A chart for a release page: per suite, each column's speed relative to the baseline (bars,
faint where pyperf finds no significant difference), and the parallel speed-up over serial
within each column. Written as SVG and PNG."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cpmatrix.bench.compare import SuiteTable


def _speed_panel(ax: Any, table: SuiteTable, colours: Mapping[str, str]) -> None:
    from matplotlib.patches import Patch

    names = [row.benchmark for row in table.rows]
    count = max(len(table.columns), 1)
    height = 0.8 / count
    handles = []
    for index, column in enumerate(table.columns):
        colour = colours[column]
        for position, row in enumerate(table.rows):
            versus = row.versus[column]
            if versus is None:
                continue
            ax.barh(
                position + (index - (count - 1) / 2) * height,
                1.0 / versus.ratio,
                height=height,
                color=colour,
                alpha=1.0 if versus.significant else 0.3,
            )
        handles.append(Patch(color=colour, label=column))
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel(f"speed relative to {table.baseline}: higher is faster, faint = not significant")
    ax.set_title(table.tag)
    ax.legend(handles=handles, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))


KIND_STYLES = {"threads": ("-", "o"), "interpreters": ("--", "s"), "processes": (":", "^")}


def _scaling_panel(
    ax: Any, scaling: Mapping[str, Mapping[str, float]], colours: Mapping[str, str]
) -> None:
    """One colour per column, one line style per kind of worker."""
    counts: set[int] = set()
    for column, speedups in scaling.items():
        kinds: dict[str, list[tuple[int, float]]] = {}
        for key, value in speedups.items():
            kind, _, workers = key.rpartition("-")
            kinds.setdefault(kind, []).append((int(workers), value))
        for kind, points in kinds.items():
            points.sort()
            xs, ys = zip(*points, strict=True)
            counts.update(xs)
            line, marker = KIND_STYLES.get(kind, ("-.", "x"))
            ax.plot(
                xs,
                ys,
                linestyle=line,
                marker=marker,
                color=colours[column],
                label=f"{column}: {kind}",
            )
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(sorted(counts))
    ax.set_xlabel("workers")
    ax.set_ylabel("speed-up over serial")
    ax.set_title("parallel speed-up (same tasks, same column)")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))


def draw(
    tables: Sequence[SuiteTable],
    scaling: Mapping[str, Mapping[str, float]],
    out_dir: Path,
    title: str,
) -> list[Path]:
    """chart.svg and chart.png in out_dir (each replaced atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    with matplotlib.rc_context({"text.parse_math": False}):  # a "$" in a name is a "$"
        return _draw(pyplot, tables, scaling, out_dir, title)


def _draw(
    pyplot: Any,
    tables: Sequence[SuiteTable],
    scaling: Mapping[str, Mapping[str, float]],
    out_dir: Path,
    title: str,
) -> list[Path]:
    panels = [t for t in tables if t.columns] + ([None] if scaling else [])
    if not panels:
        return []
    heights = [max(2.5, 0.3 * len(t.rows) * max(len(t.columns), 1)) if t else 4.0 for t in panels]
    figure, axes = pyplot.subplots(
        len(panels), 1, figsize=(11, sum(heights) + 1), height_ratios=heights, squeeze=False
    )
    names = [tables[0].baseline, *tables[0].columns] if tables else []
    names += [name for name in scaling if name not in names]
    colours = {name: f"C{index % 10}" for index, name in enumerate(names)}
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        if panel is None:
            _scaling_panel(ax, scaling, colours)
        else:
            _speed_panel(ax, panel, colours)
    figure.suptitle(title)
    figure.tight_layout(rect=(0, 0, 1, 0.98))
    written = []
    for suffix in ("svg", "png"):
        target = out_dir / f"chart.{suffix}"
        handle, staging = tempfile.mkstemp(prefix=".chart-", suffix=f".{suffix}", dir=out_dir)
        os.close(handle)
        figure.savefig(staging, format=suffix, dpi=120)
        Path(staging).chmod(0o644)
        Path(staging).replace(target)
        written.append(target)
    pyplot.close(figure)
    return written
