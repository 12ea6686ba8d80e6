"""{% fragment "name" vary_on… %}…{% endfragment %}: Django's {% cache %} with the shop's rules.

The fragment is kept in the fragments cache for stamps.FRAGMENT_SECONDS under its name, the
values given (version stamps, ids, digests of filters) and always the language and currency
(stamps.variant()), so a template cannot forget them; {% cache %} itself is not used.

{% kept_include "template" name=value… %}: a small include rendered once per process for each
language and set of values (kept_include says when that is right); kept_render, the same for a
view.
"""

from django import template
from django.template.loader import render_to_string
from django.templatetags.cache import CacheNode

from o2o_site.cache import stamps

register = template.Library()

# {% kept_include %}'s HTML by (template, language and currency, values).
_kept: dict[tuple, str] = {}
KEPT_INCLUDES = 1000


class _Constant:
    """A value CacheNode resolves like a template variable."""

    def __init__(self, value):
        self.value = value

    def resolve(self, context):
        return self.value


class _Variant:
    """The language and currency at render time (stamps.variant())."""

    def resolve(self, context):
        return stamps.variant()


@register.tag
def fragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(f"'{bits[0]}' needs a name: {{% fragment \"name\" value… %}}")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    name = bits[1].strip("\"'")  # a name, never a variable (as in {% cache %})
    vary_on = [parser.compile_filter(bit) for bit in bits[2:]]
    return CacheNode(nodelist, _Constant(stamps.FRAGMENT_SECONDS), name, [*vary_on, _Variant()], None)


@register.simple_tag
def kept_include(template_name, **values):
    """{% kept_include "includes/open_status.html" is_open=row.is_open %}: the include's HTML,
    rendered once per process for each language, currency and set of (hashable) values. Only for
    a small include whose HTML depends on those alone, not on the page's context (the request,
    the user, a CSRF token), shown once a row: a product page's table of ten stores rendered its
    open or closed badge ten times."""
    return _kept_html(template_name, values, key=tuple(sorted(values.items())))


def kept_render(template_name: str, context: dict, *, key: tuple) -> str:
    """render_to_string(template_name, context), rendered once per process for each language,
    currency and `key`: everything of `context` the HTML shows, as hashable values. For a part of
    a page that is the same for every shopper and whose context is not hashable itself (model
    instances): the checkout's opening hours of each store listed."""
    return _kept_html(template_name, context, key=("kept_render", key))


def _kept_html(template_name, context, *, key):
    key = (template_name, stamps.variant(), key)
    html = _kept.get(key)
    if html is None:
        if len(_kept) >= KEPT_INCLUDES:
            _kept.clear()
        html = _kept[key] = render_to_string(template_name, context)
    return html
