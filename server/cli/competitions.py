"""Organizer commands: `hackathon competition create|update`."""

from __future__ import annotations

from pathlib import Path

import click

from server.cli.app import CLI_ACTOR, ServerGroup, runtime
from server.cli.output import emit, json_option
from server.services.competition_defaults import default_help as create_default_help
from server.services.competitions import (
    CompetitionSettings,
    competition_to_dict,
    update_competition,
)
from server.services.datafiles import (
    collect_data_files,
    create_competition_with_data,
    data_file_to_dict,
    list_data_files,
)


def _settings_options(f, create: bool = False):  # type: ignore[no-untyped-def]
    # Create: an omitted option takes the next source in one order (competition_defaults);
    # update: an omitted option leaves the value unchanged.
    def default_help(key: str) -> str:
        return create_default_help(key) if create else "Default: unchanged."

    options = [
        click.option("--start", help="Opening time, ISO 8601 (no offset: the competition's timezone)."),
        click.option("--end", help="Closing time, ISO 8601 (submissions accepted while start <= t < end)."),
        click.option("--timezone", help="IANA zone for display and daily limits. " + default_help("timezone")),
        click.option("--daily-limit", type=int,
                     help="Counted submissions per team per local day. " + default_help("daily_limit")),
        click.option("--total-limit", type=int,
                     help="Counted submissions per team overall (0: none). " + default_help("total_limit")),
        click.option("--max-final", type=int, help="Final picks per team. " + default_help("max_final")),
        click.option("--precision", type=int, help="Decimals shown and ranked. " + default_help("precision")),
        click.option("--max-upload-mb", type=float,
                     help="Largest accepted upload, in MB. " + default_help("max_upload_mb")),
        click.option("--public-feedback", type=click.Choice(["exact", "rounded", "ladder"]),
                     help="What teams see of public scores: exact; rounded (precision 5 unless --precision); "
                          "ladder (only the Ladder value, see README). " + default_help("public_feedback")),
        click.option("--title-ko", help="Korean title (default: the task's)."),
        click.option("--title-en", help="English title (default: the task's)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _settings(kwargs: dict[str, object], public_fraction: float | None = None) -> CompetitionSettings:
    return CompetitionSettings(
        start=kwargs["start"], end=kwargs["end"], timezone=kwargs["timezone"],  # type: ignore[arg-type]
        daily_limit=kwargs["daily_limit"], total_limit=kwargs["total_limit"],  # type: ignore[arg-type]
        max_final=kwargs["max_final"], precision=kwargs["precision"],  # type: ignore[arg-type]
        max_upload_mb=kwargs["max_upload_mb"], public_fraction=public_fraction,  # type: ignore[arg-type]
        public_feedback=kwargs["public_feedback"],  # type: ignore[arg-type]
        title_ko=kwargs["title_ko"], title_en=kwargs["title_en"],  # type: ignore[arg-type]
    )


@click.group("competition", cls=ServerGroup)
def competition_group() -> None:
    """Create and change competitions."""


@competition_group.command("create")
@click.option("--task", "task_dir", required=True, type=click.Path(exists=True, path_type=Path),
              help="Task folder with task.toml (e.g. datasets/antenna).")
@click.option("--labels", "labels_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Hidden labels CSV (id, targets, optional Usage).")
@click.option("--slug", help="URL name (default: the task's slug).")
@click.option("--public-fraction", type=float, help="Share of rows on the public board when labels have no Usage. "
              + create_default_help("public_fraction"))
@click.option("--split-seed", help="Seed of the public/private hash split (default: random, recorded).")
@click.option("--data", "data_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Data file for participants, or a folder whose every file is one (repeat). "
                   "A file that is or holds the hidden labels is refused.")
@lambda f: _settings_options(f, create=True)
@json_option
def competition_create(task_dir: Path, labels_file: Path, slug: str | None, public_fraction: float | None,
                       split_seed: str | None, data_paths: tuple[Path, ...], as_json: bool, **kwargs: object) -> None:
    """Create a competition from a task folder and hidden labels; prints the slug."""
    rt = runtime()
    data = collect_data_files(list(data_paths))
    comp = create_competition_with_data(rt, actor=CLI_ACTOR, task_dir=task_dir, labels_file=labels_file,
                                        data=data, slug=slug, settings=_settings(kwargs, public_fraction),
                                        split_seed=split_seed)
    body = competition_to_dict(comp, rt.now())
    with rt.session() as session:
        body["data"] = [data_file_to_dict(f, comp.slug) for f in list_data_files(session, comp)]
    emit(as_json, body, comp.slug)


@competition_group.command("update")
@click.argument("slug")
@_settings_options
@json_option
def competition_update(slug: str, as_json: bool, **kwargs: object) -> None:
    """Change a competition's schedule and limits."""
    rt = runtime()
    comp = update_competition(rt, slug, _settings(kwargs), actor=CLI_ACTOR)
    data = competition_to_dict(comp, rt.now())
    emit(as_json, data, f"{slug}: {data['start_at_local']} → {data['end_at_local']}, daily limit {comp.daily_limit}")
