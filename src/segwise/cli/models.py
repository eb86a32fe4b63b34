"""Commands on models: ``predict`` and ``target``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from segwise.cli.main import app, errors_exit_2
from segwise.cli.render import render_predictions, render_target


@app.command()
@errors_exit_2
def predict(
    model: Annotated[
        Path, typer.Argument(help="A model file from segment --model or target --model.")
    ],
    input: Annotated[
        Path, typer.Argument(help="Customers to place: a table, or a log for log models.")
    ],
    out: Annotated[
        Path | None, typer.Option(help="One row per input customer (.csv .parquet .xlsx).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the predictions as JSON.")] = False,
) -> None:
    """Place customers in the segments of a saved run, or predict a target for them.

    Example: segwise predict m.skops new_members.csv --out placed.csv
    """
    from segwise import service

    if out is not None:
        service.check_output_path(out)
    frame, predictor = service.predict_file(model, input)
    if out is not None:
        service.write_frame(frame, out)
    if as_json:
        payload = {
            "kind": predictor.manifest.kind,
            "rows": len(frame),
            "notes": frame.attrs["notes"],
            "predictions": json.loads(frame.to_json(orient="records")),
        }
        typer.echo(json.dumps(payload, indent=2))
    else:
        render_predictions(frame, predictor.manifest.kind, frame.attrs["notes"], out)


@app.command()
@errors_exit_2
def target(
    input: Annotated[Path, typer.Argument(help="Customer table with the business column.")],
    target: Annotated[str, typer.Option("--target", help="The column to predict.")],
    features: Annotated[str | None, typer.Option(help="Comma-separated columns to use.")] = None,
    model: Annotated[Path | None, typer.Option(help="Save the predictor (.skops).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the evaluation as JSON.")] = False,
) -> None:
    """Train a predictor of a business column, e.g. 'would recommend us' graded A-D.

    Logistic regression and random forest are compared by cross-validation, with class
    weights and with SMOTE inside the folds; the hold-out scores are honest.
    Example: segwise target survey.csv --target recommend --model rec.skops
    """
    from segwise import service

    chosen = [f.strip() for f in features.split(",") if f.strip()] if features else None
    pipeline, report, frame = service.train_target_model(input, target, features=chosen, seed=seed)
    summary = report.to_dict()
    if model is not None:
        service.save_target_model(pipeline, report, frame, model)
        summary["model_file"] = str(model)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        render_target(summary)
