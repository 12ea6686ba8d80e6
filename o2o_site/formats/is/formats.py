# Django has no Icelandic date-and-time format and falls back to the English "N j, Y, P"
# ("nóv. 23, 2026, 9:58 morgun"); Icelandic writes "23. nóvember 2026 kl. 09:58".
DATETIME_FORMAT = r"j. F Y \k\l. H:i"
SHORT_DATETIME_FORMAT = "j.n.Y H:i"
