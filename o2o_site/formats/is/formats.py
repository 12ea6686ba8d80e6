# Django has no Icelandic date-and-time format and falls back to the English "N j, Y, P"
# ("nóv. 23, 2026, 9:58 morgun"); Icelandic writes "23. nóvember 2026 kl. 09:58".
DATETIME_FORMAT = r"j. F Y \k\l. H:i"
SHORT_DATETIME_FORMAT = "j.n.Y H:i"
# The shop's own (o2o_site/dates.py): "mánudagur 23. nóvember", "mánudagur 23. nóvember kl. 09:58";
# Icelandic writes weekdays in lower case (Django's names are capitalised).
WEEKDAY_DATE_FORMAT = "l j. F"
WEEKDAY_DATETIME_FORMAT = r"l j. F \k\l. H:i"
LOWERCASE_WEEKDAYS = True
