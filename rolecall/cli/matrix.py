"""`rolecall matrix`: run a grid of targets and versions, keep one summary per product-version in a
history folder, and write finding x product-version as a page, CSV and JSON, each change between two
versions of one product replayed on both."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from rolecall import interrupts
from rolecall.cli.common import (EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, STRICTNESS, TARGET_OPTION_HELP, UserError,
                                 checked_plan, progress_listener, target_options)
from rolecall.engine import PROFILES
from rolecall.matrix import product_string, run_product, settle
from rolecall.paths import unwritable
from rolecall.reports import matrix as history_
from rolecall.reports.progress import Progress
from rolecall.reports.records import build
from rolecall.targets import LOCAL_DEFAULT
from rolecall.targets.served import stop_shared


@click.command("matrix")
@click.option("--target", "targets", multiple=True, metavar="NAME[@VERSION]",
              help="A target of the grid (repeat): e.g. moto@5.0.28, moto, localstack@2026.3.0. "
                   "Default: the `targets` setting, else moto, moto+auth and localstack.")
@click.option("--history", type=click.Path(path_type=Path), default=Path("matrix"), show_default=True,
              help="The history folder: one summary per product-version, and the table made of all of them.")
@click.option("--oracle", default="reference", show_default=True, help="The target others are compared with.")
@click.option("--profile", type=click.Choice(["ci", "dev", "explore"]), default="ci", show_default=True,
              help="Hypothesis budget of each run: ci (fixed seed: versions see the same examples), dev, explore.")
@click.option("--property", "properties", multiple=True, metavar="NAME", help="Only these properties.")
@click.option("-m", "--feature", "features", multiple=True, metavar="FEATURE", help="Only properties of this feature.")
@click.option("--strictness", type=STRICTNESS, default="code", show_default=True,
              help="The finest level at which a difference counts.")
@click.option("--seed", type=int, help="Seed for the search (default: the profile's).")
@click.option("--max-examples", type=click.IntRange(1, 100000), help="Examples per property and round.")
@click.option("--localstack-endpoint", metavar="URL", help="Use a running LocalStack instead of starting one.")
@click.option("--target-option", "target_option_pairs", multiple=True, metavar="KEY=VALUE", help=TARGET_OPTION_HELP)
@click.option("--no-run", is_flag=True, help="Run nothing: rebuild the table from the history (and replay changes).")
def matrix(targets, history, oracle, profile, properties, features, strictness, seed, max_examples,
           localstack_endpoint, target_option_pairs, no_run) -> None:
    """Findings x product-versions: run targets in turn, keep their history, table the changes.

    Each target's summary goes to HISTORY/summaries/<product-version>.json; from all of them
    HISTORY/index.html, matrix.csv and matrix.json show each finding on each product-version
    (present, absent, not tested), where it appears and disappears between versions of one product,
    each such change replayed on both versions. Re-running one target replaces only its summary.

    Exit 0 when every target ran, 2 when one could not (its summary is left as it was), 130 when
    interrupted."""
    specs = [] if no_run else list(dict.fromkeys(targets or LOCAL_DEFAULT))
    props = checked_plan(specs, oracle, properties, features)
    problem = unwritable(history)
    if problem:
        raise UserError(problem.replace("cannot write a report there", "cannot write the matrix history there"))
    try:
        known = history_.load_history(history)
        previous = _previous(history)
    except history_.HistoryError as exc:
        raise UserError(str(exc)) from None
    # every spec is built, and a named version installed, before any run
    options = target_options(target_option_pairs, [*specs, oracle], localstack_endpoint)

    failed: list[str] = []
    for spec in specs:
        interrupts.check()
        with Progress(len(props)) as bar:
            done = run_product(spec, props, oracle=oracle, profile=PROFILES[profile], strictness=strictness,
                               seed=seed, max_examples=max_examples, options=options,
                               listener=progress_listener(bar))
        stop_shared()  # one emulator server at a time
        if done.error == "interrupted":
            click.echo("rolecall: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        product = product_string(*done.product) if done.product else None
        if done.error or product is None:
            failed.append(spec)
            click.echo(f"rolecall: error: {spec}: {done.error or 'could not be opened'}; "
                       + (f"the summary of {product} is left as it was" if product else "no summary written"),
                       err=True)
            continue
        summary = history_.summary_of(done.product, spec, done.result, build(done.result), max_examples=max_examples)
        if product in known and known[product]["target"] != spec:
            click.echo(f"{spec}: replaces the summary of {product} made by {known[product]['target']}")
        path = history_.write_summary(history, summary)
        known[product] = summary
        click.echo(f"{spec}: {product}: {len(summary['findings'])} findings, {summary['divergences']} divergences, "
                   f"{summary['examples']} examples -> {path}")

    with Progress(0) as bar:
        tab = settle(known, oracle=oracle, strictness=strictness, options=options, previous=previous,
                     emit=progress_listener(bar), between=stop_shared)
    doc = history_.document(known, tab)
    paths = history_.write_outputs(history, doc)
    for change in doc["changes"]:
        rp = change.get("replay") or {}
        verdict = {True: "confirmed", False: "NOT confirmed", None: "not replayed"}[change.get("confirmed")]
        click.echo(f"{change['finding']} {change['change']} {change['from']} -> {change['to']}: {verdict} "
                   f"(replay: {(rp.get('from') or {}).get('result')} / {(rp.get('to') or {}).get('result')}) "
                   f"{change['behaviour']}")
    click.echo(f"matrix: {len(doc['findings'])} findings x {len(doc['products'])} product-versions, "
               f"{len(doc['changes'])} changes: {paths['html']}")
    sys.exit(EXIT_ERROR if failed else EXIT_OK)


def _previous(folder: Path) -> dict | None:
    """The matrix.json an earlier run wrote; output files rolecall did not write are not overwritten."""
    previous = history_.read_previous(folder)
    if previous is None:
        for name in ("matrix.json", "matrix.csv", "index.html"):
            if (folder / name).exists():
                raise history_.HistoryError(f"{folder / name}: not written by rolecall matrix (no rolecall "
                                            f"matrix.json beside it); choose another --history folder")
    return previous

