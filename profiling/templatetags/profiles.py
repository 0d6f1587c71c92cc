from django import template

register = template.Library()


@register.simple_tag
def pct(part: float, total: float) -> str:
    """`part` as a percentage of `total`, one decimal."""
    return f"{part * 100 / total:.1f}" if total else "–"


@register.simple_tag
def points(delta: float) -> str:
    """A change of share (a fraction) in percentage points, signed."""
    return f"{delta * 100:+.1f}"
