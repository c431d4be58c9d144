"""docs/cli.md, generated from the commands' own --help: `python -m mapsheets.cli.docs > docs/cli.md`."""

from __future__ import annotations

import click

from mapsheets.cli import cli


def render() -> str:
    parts = ["# mapsheets command line", "",
             "Generated from `--help` by `python -m mapsheets.cli.docs > docs/cli.md`; "
             "a test fails when it drifts.", ""]
    root = click.Context(cli, info_name="mapsheets", terminal_width=100, max_content_width=100,
                         help_option_names=["-h", "--help"])
    parts += ["## mapsheets", "", "```", cli.get_help(root), "```", ""]
    for name in sorted(cli.list_commands(root)):
        command = cli.get_command(root, name)
        if command is None:  # (never: the name was listed)
            continue
        ctx = click.Context(command, info_name=name, parent=root, terminal_width=100, max_content_width=100,
                            help_option_names=["-h", "--help"])
        parts += [f"## mapsheets {name}", "", "```", command.get_help(ctx), "```", ""]
        if not isinstance(command, click.Group):
            continue
        for sub in sorted(command.list_commands(ctx)):
            child = command.get_command(ctx, sub)
            if child is None:
                continue
            sub_ctx = click.Context(child, info_name=sub, parent=ctx, terminal_width=100, max_content_width=100,
                                    help_option_names=["-h", "--help"])
            parts += [f"## mapsheets {name} {sub}", "", "```", child.get_help(sub_ctx), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
