# "23. november 2026 kl. 09:58", as Norwegian shops write a date and a time together.
DATETIME_FORMAT = r"j. F Y \k\l. H:i"
# The shop's own (o2o_site/dates.py): "mandag 23. november", "mandag 23. november kl. 09:58";
# Norwegian writes weekdays in lower case (Django's names are capitalised).
WEEKDAY_DATE_FORMAT = "l j. F"
WEEKDAY_DATETIME_FORMAT = r"l j. F \k\l. H:i"
LOWERCASE_WEEKDAYS = True
