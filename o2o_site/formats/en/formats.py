# English as the shop writes it beside Icelandic and Norwegian: the day before the month and the
# 24-hour clock, as the stores' opening hours are written, instead of Django's American
# "Nov. 30, 2026, 11:54 a.m." (whose full stop doubles at the end of a sentence).
DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
MONTH_DAY_FORMAT = "j F"
# The shop's own (o2o_site/dates.py): "Monday 30 November", "Monday 30 November, 11:54".
WEEKDAY_DATE_FORMAT = "l j F"
WEEKDAY_DATETIME_FORMAT = "l j F, H:i"
