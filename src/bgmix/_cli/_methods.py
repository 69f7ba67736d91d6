"""``bgmix methods``."""

from __future__ import annotations

import click


@click.command("methods")
@click.option(
    "--family", default=None, help="Only this family (online, batch, baseline, lowrank, opencv)."
)
@click.option(
    "--params", "show_params", is_flag=True, help="Also list each method's parameters and defaults."
)
def methods(family: str | None, show_params: bool) -> None:
    """List the methods accepted by `-m/--method`, with their family and summary."""
    import inspect

    from bgmix._validation import check_choice
    from bgmix.background import available_methods, method_info

    if family is not None:
        check_choice("family", family, sorted({method_info(n).family for n in available_methods()}))
    names = available_methods(family)
    width = max((len(n) for n in names), default=0)
    for name in names:
        spec = method_info(name)
        click.echo(f"{name:<{width}}  {spec.family:<8}  {spec.summary}")
        if show_params:
            sig = inspect.signature(spec.load().__init__)
            for p in sig.parameters.values():
                if p.name != "self" and p.kind is p.KEYWORD_ONLY:
                    click.echo(f"{'':<{width}}    {p.name}={p.default!r}")
