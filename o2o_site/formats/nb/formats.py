# "23. november 2026 kl. 09:58", as Norwegian shops write a date and a time together.
DATETIME_FORMAT = r"j. F Y \k\l. H:i"
