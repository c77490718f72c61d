"""`rolecall run`: search every property on each target; write a report; gate on a baseline."""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from rolecall import interrupts
from rolecall.cli.common import (DEFAULT_STRICTNESS, EXIT_ERROR, EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, STRICTNESS,
                                 TARGET_OPTION_HELP, WORKERS, UserError, checked_plan, progress_listener,
                                 target_options)
from rolecall.corpus import corpus_property, default_folders, load_corpus
from rolecall.engine import PROFILES
from rolecall.events import Note
from rolecall.ledger import Baseline, LedgerError, add_replays, replay_baseline
from rolecall.outcome import TargetUnavailable
from rolecall.paths import unwritable
from rolecall.reports import write_report
from rolecall.reports.progress import Progress
from rolecall.reports.records import build
from rolecall.reports.terminal import print_summary
from rolecall.scenario import ScenarioError
from rolecall.session import run as run_suite
from rolecall.targets import LOCAL_DEFAULT


@click.command("run")
@click.option("--target", "targets", multiple=True, metavar="NAME",
              help="A target to test (repeat for several). Default: moto, moto+auth and localstack.")
@click.option("--oracle", default="reference", show_default=True, help="The target others are compared with.")
@click.option("--profile", type=click.Choice(["ci", "dev", "explore", "replay"]), default="ci", show_default=True,
              help="Hypothesis budget: ci (fixed seed), dev, explore (long), replay (the example database only).")
@click.option("--property", "properties", multiple=True, metavar="NAME", help="Only these properties.")
@click.option("-m", "--feature", "features", multiple=True, metavar="FEATURE", help="Only properties of this feature.")
@click.option("--strictness", type=STRICTNESS, default=DEFAULT_STRICTNESS,
              show_default=True, help="The finest level at which a difference counts: decision, code, facts (the returned "
                   "fields AWS defines, as far as the oracle is sure), result, message.")
@click.option("--seed", type=int, help="Seed for the search (default: the profile's).")
@click.option("--max-examples", type=click.IntRange(1, 100000), help="Examples per property and round.")
@click.option("--report-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option("--corpus", "corpus", multiple=True, type=click.Path(path_type=Path), metavar="FOLDER",
              help="Replay the scenario files under FOLDER on every target before the search (repeat for "
                   "several). Default: rolecall's committed corpora (scenarios/).")
@click.option("--no-corpus", is_flag=True, help="Do not replay any scenario corpus before the search.")
@click.option("--baseline", type=click.Path(path_type=Path), help="Gate against this baseline folder.")
@click.option("--strict", is_flag=True, help="With --baseline: a finding whose pinned scenario agrees now (fixed) fails.")
@click.option("--localstack-endpoint", metavar="URL", help="Use a running LocalStack instead of starting one.")
@click.option("--target-option", "target_option_pairs", multiple=True, metavar="KEY=VALUE", help=TARGET_OPTION_HELP)
@click.option("--workers", type=WORKERS, default="auto", show_default=True,
              help="Worker processes running targets side by side (auto: one per CPU; 1: one after another).")
@click.option("-v", "--verbose", is_flag=True, help="Also print the property matrix, every divergence and the coverage.")
def run(targets, oracle, profile, properties, features, strictness, seed, max_examples, report_dir, corpus,
        no_corpus, baseline, strict, localstack_endpoint, target_option_pairs, workers, verbose) -> None:
    """Search every property on each target for divergences from the oracle; write a report.

    Each target's first cell replays the committed scenario corpora (--no-corpus: not); their
    divergences become findings like the search's.
    Prints the findings (one line per target behaviour that differs from AWS). With --baseline,
    each accepted finding's pinned scenario and the scenarios its target passed are replayed
    first, then the search runs (without the local example database); exit 1 only for new
    findings, regressions (a scenario the target passed at baseline time fails now) or expired
    entries."""
    target_specs = list(targets) or list(LOCAL_DEFAULT)
    props = checked_plan(target_specs, oracle, properties, features)
    problem = unwritable(report_dir)
    if problem:
        raise UserError(problem)
    gate = None
    if baseline is not None:
        try:
            gate = Baseline.load(baseline, must_exist=True)
        except LedgerError as exc:
            raise UserError(str(exc)) from None

    scenarios = []
    if corpus and no_corpus and click.get_current_context().get_parameter_source("no_corpus").name != "COMMANDLINE":
        no_corpus = False  # --corpus on the command line wins over a setting of "off"
    if not no_corpus:
        try:
            scenarios = load_corpus(list(corpus) or default_folders())
        except ScenarioError as exc:
            raise UserError(str(exc)) from None

    options = target_options(target_option_pairs, [*target_specs, oracle], localstack_endpoint)
    replays = []

    def pinned_replays(pool, emit) -> None:
        """The gate's first phase: replay each finding's pinned scenario and the scenarios the target
        passed, on the run's targets."""
        for spec in target_specs:
            interrupts.check()
            emit(Note(f"{spec}: replaying the baseline (pinned and passed scenarios)"))
            try:
                replays.extend(replay_baseline(gate, pool.get(spec), pool.get(oracle), strictness))
            except TargetUnavailable as exc:
                emit(Note(f"{spec}: baseline replay skipped: {exc}"))

    if scenarios:  # each target's first cell: in its lane, side by side with the others'
        props = [corpus_property(scenarios), *props]
    with Progress(len(props)) as bar:
        chosen = PROFILES[profile] if gate is None else replace(PROFILES[profile], use_database=False)
        result = run_suite(props, target_specs, oracle_spec=oracle, profile=chosen, strictness=strictness,
                           seed=seed, max_examples=max_examples, target_options=options,
                           listener=progress_listener(bar), workers=workers,
                           before_cells=pinned_replays if gate is not None else None)
    if interrupts.requested():  # it came after the last safe point: the report still says so
        result.interrupted = True
    verdicts = None
    if gate is not None:
        add_replays(result, replays)
        tested = {(c.target, c.property) for c in result.cells if c.examples > 0}
        verdicts = gate.judge(build(result)["findings"], replays, strict=strict, tested=tested)
    path = write_report(result, report_dir, verdicts=verdicts)
    print_summary(result, verdicts=verdicts, report_path=path, verbose=verbose)
    sys.exit(exit_code(result, verdicts))


def exit_code(result, verdicts) -> int:
    if result.interrupted:
        return EXIT_INTERRUPTED
    tested = [c for c in result.cells if c.examples > 0]
    if not tested or result.target_errors or any(c.error for c in result.cells):
        return EXIT_ERROR
    if verdicts is not None:
        return EXIT_FAIL if verdicts.failing else EXIT_OK
    return EXIT_FAIL if any(c.divergences for c in result.cells) else EXIT_OK
