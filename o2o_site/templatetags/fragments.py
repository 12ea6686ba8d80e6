"""{% fragment "name" vary_on… %}…{% endfragment %}: Django's {% cache %} with the shop's rules.

The fragment is kept in the fragments cache for stamps.FRAGMENT_SECONDS under its name, the
values given (version stamps, ids, digests of filters) and always the language and currency
(stamps.variant()), so a template cannot forget them; {% cache %} itself is not used.
"""

from django import template
from django.templatetags.cache import CacheNode

from o2o_site.cache import stamps

register = template.Library()


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
