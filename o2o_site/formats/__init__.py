"""Date formats Django's own locale files leave out or write differently from how the shop's
languages write them (settings.FORMAT_MODULE_PATH; everything not set here comes from Django)."""
