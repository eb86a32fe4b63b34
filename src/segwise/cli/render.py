"""Terminal output of the commands (Rich tables on stdout)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def render_rfm(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    src = summary["input"]
    how = f"{src['format'].upper()}"
    if src.get("encoding"):
        how += f", {src['encoding']}, '{src['delimiter']}' separated"
    console.print(f"[bold]{src['file']}[/]: {how}, {src['rows']:,} lines")
    roles = ", ".join(f"{role}={col}" for role, col in summary["mapping"].items())
    console.print(f"Columns: {roles}")
    if summary["date_format"]:
        console.print(f"Dates: {summary['date_format']}")
    report = summary["report"]
    console.print(
        f"Kept {report['kept_lines']:,} of {report['lines']:,} lines; "
        f"{report['returns']:,} cancellations/returns lower net spend and are not purchases"
    )
    from segwise.service import REASONS

    for reason, n in report["dropped"].items():
        console.print(f"  dropped {n:>9,}  {REASONS[reason]}")
    for file in report.get("files", ()):
        dropped = ", ".join(f"{n:,} {reason}" for reason, n in file["dropped"].items())
        console.print(
            f"  {file['file']}: {file['lines']:,} lines"
            + (f"; dropped {dropped}" if dropped else "")
        )
    if skipped := report.get("skipped_files"):
        console.print("  files skipped: " + ", ".join(f"{n:,} {why}" for why, n in skipped.items()))
    table = Table(
        title=f"RFM segments as of {summary['as_of']} ({summary['customers']:,} customers)"
    )
    for col, justify in (
        ("Segment", "left"),
        ("Customers", "right"),
        ("Share", "right"),
        ("Recency (days)", "right"),
        ("Frequency", "right"),
        ("Monetary", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for seg in summary["segments"]:
        table.add_row(
            seg["segment"],
            f"{seg['customers']:,}",
            f"{seg['share']:.1%}",
            f"{seg['recency_mean']:.0f}",
            f"{seg['frequency_mean']:.1f}",
            f"{seg['monetary_mean']:,.2f}",
        )
    console.print(table)
    if summary.get("out"):
        console.print(f"Wrote {summary['out']}")


def render_segments(summary: dict[str, Any], out: Path | None, report: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(f"{summary['customers']:,} customers ({summary['kind']}): {summary['k_reason']}")
    if summary["stability"].get("warning"):
        console.print(f"[yellow]warning:[/] {summary['stability']['warning']}")
    table = Table(title=f"{summary['k']} segments")
    for col in ("#", "Segment", "Customers", "Share", "Stands out by", "Recommendation"):
        table.add_column(col, overflow="fold")
    for seg in summary["segments"]:
        marks = ", ".join(f"{f} {'+' if z > 0 else '-'}" for f, z in seg["distinctive"])
        table.add_row(
            str(seg["segment"]),
            seg["name"],
            f"{seg['size']:,}",
            f"{seg['share']:.1%}",
            marks,
            seg["recommendation"],
        )
    console.print(table)
    render_segment_value(console, summary)
    if classifier := summary.get("classifier"):
        console.print(
            f"Surrogate classifier ({classifier['strategy']}): hold-out accuracy "
            f"{classifier['accuracy']:.3f}, macro F1 {classifier['macro_f1']:.3f}"
        )
    if summary.get("model_file"):
        console.print(f"Wrote model: {summary['model_file']}")
    for path, what in ((out, "segments"), (report, "report")):
        if path is not None:
            console.print(f"Wrote {what}: {path}")


def render_segment_value(console: Any, summary: dict[str, Any]) -> None:
    """Each segment's value in one line, or why the run has none (logs only)."""
    value = summary.get("value")
    if not value:
        return
    if value.get("note"):
        console.print(value["note"])
        return
    console.print(
        f"Customer value (BG/NBD + Gamma-Gamma, learned up to {value['calibration_end']}):"
    )
    for seg in summary["segments"]:
        if seg.get("value"):
            console.print(f"  {seg['value']['headline']}")


def render_predictions(
    frame: pd.DataFrame, kind: str, notes: list[str], out: Path | None, shown: int = 20
) -> None:
    """The first predictions as a table, then notes about the input."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    table = Table(title=f"{len(frame):,} customers ({kind} model)")
    for col in frame.columns:
        table.add_column(str(col), overflow="fold")
    for row in frame.head(shown).itertuples(index=False):
        table.add_row(*(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)
    if len(frame) > shown:
        console.print(f"... and {len(frame) - shown:,} more (use --out FILE)")
    for note in notes:
        console.print(f"note: {note}")
    if out is not None:
        console.print(f"Wrote {out}")


def render_target(summary: dict[str, Any]) -> None:
    """Evaluation of a target model: scores, confusion matrix and what matters most."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False)
    console.print(
        f"Target [bold]{summary['target']}[/] ({', '.join(map(str, summary['classes']))}): "
        f"{summary['model']}, hold-out accuracy {summary['accuracy']:.3f}, "
        f"macro F1 {summary['macro_f1']:.3f}"
    )
    matrix = Table(title="Confusion matrix (rows: true, columns: predicted)")
    matrix.add_column("")
    for label in summary["classes"]:
        matrix.add_column(str(label), justify="right")
    for label, row in zip(summary["classes"], summary["confusion_matrix"], strict=True):
        matrix.add_row(str(label), *(str(v) for v in row))
    console.print(matrix)
    top = sorted(summary["importance"].items(), key=lambda kv: -kv[1])[:8]
    console.print(
        "Matters most (permutation importance): "
        + ", ".join(f"{name} {value:.3f}" for name, value in top)
    )
    for warning in summary.get("warnings", []):
        console.print(f"[bold yellow]warning:[/] {escape(warning)}")
    if summary.get("model_file"):
        console.print(f"Wrote {summary['model_file']}")
