from django import template

from kizuna.activities import mentions as m

register = template.Library()


@register.filter
def mentions(text: str):
    """Escape ``text`` and link its @mentions."""
    return m.render(text or "")
