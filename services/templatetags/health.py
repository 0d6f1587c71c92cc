from django import template
from django.utils.html import format_html, format_html_join

from services.models import HealthResult

register = template.Library()

WIDTH, HEIGHT = 120, 24


@register.simple_tag
def sparkline(results: list[HealthResult]) -> str:
    """Inline SVG of latencies (oldest left); failures as red dots on the baseline."""
    points = [r for r in results if r.latency_ms is not None]
    if len(points) < 2:
        return ""
    top = max(r.latency_ms or 0 for r in points) or 1.0
    step = WIDTH / (len(points) - 1)

    def xy(i: int, r: HealthResult) -> tuple[float, float]:
        return round(i * step, 1), round(HEIGHT - 2 - (HEIGHT - 4) * (r.latency_ms or 0) / top, 1)

    line = " ".join(f"{x},{y}" for x, y in (xy(i, r) for i, r in enumerate(points)))
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="2" class="spark-fail"></circle>',
        ((xy(i, r)[0], HEIGHT - 2) for i, r in enumerate(points) if not r.ok),
    )
    label = f"latency of the last {len(points)} runs, max {top:.0f} ms"
    return format_html(
        '<svg class="spark" width="{}" height="{}" viewBox="0 0 {} {}" role="img" '
        'aria-label="{}"><polyline points="{}" fill="none"></polyline>{}</svg>',
        WIDTH, HEIGHT, WIDTH, HEIGHT, label, line, dots,
    )  # fmt: skip


@register.filter
def get_item(mapping: dict[object, object], key: object) -> object:
    return mapping.get(key)
