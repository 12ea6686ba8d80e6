import re

from django.db import migrations, models

# Entries written before reasons had codes carry English words: read them back into codes, so
# they too are shown in the reader's language. A return's note with points already spent keeps
# its words (the amount was formatted into them).
PATTERNS = (
    (re.compile(r"^Purchase in store$"), "purchase", ()),
    (re.compile(r"^Imported from the till$"), "till_import", ()),
    (re.compile(r"^Redeemed at the till$"), "till_redeem", ()),
    (re.compile(r"^Used at checkout$"), "checkout", ()),
    (re.compile(r"^Order (\S+) cancelled$"), "cancelled", ("number",)),
    (re.compile(r"^Order (\S+) handed over$"), "handed_over", ("number",)),
    (re.compile(r"^Return (\S*) of order (\S+)$"), "returned", ("code", "number")),
    (re.compile(r"^Points older than (\d+) days$"), "expired", ("days",)),
)


def codes_from_english_words(apps, schema_editor):
    RewardEntry = apps.get_model("rewards", "RewardEntry")
    for pk, reason in RewardEntry.objects.filter(reason_code="").exclude(reason="").values_list("pk", "reason"):
        for pattern, code, names in PATTERNS:
            match = pattern.match(reason)
            if match:
                args = dict(zip(names, match.groups(), strict=True))
                if "days" in args:
                    args["days"] = int(args["days"])
                RewardEntry.objects.filter(pk=pk).update(reason_code=code, reason_args=args)
                break


class Migration(migrations.Migration):
    dependencies = [
        ("rewards", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="rewardentry",
            name="reason_args",
            field=models.JSONField(blank=True, default=dict, verbose_name="why (details)"),
        ),
        migrations.AddField(
            model_name="rewardentry",
            name="reason_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("purchase", "Purchase in store"),
                    ("till_import", "Imported from the till"),
                    ("till_redeem", "Redeemed at the till"),
                    ("checkout", "Used at checkout"),
                    ("cancelled", "Order %(number)s cancelled"),
                    ("handed_over", "Order %(number)s handed over"),
                    ("returned", "Return %(code)s of order %(number)s"),
                    ("expired", "Points older than %(days)s days"),
                ],
                max_length=20,
                verbose_name="why (code)",
            ),
        ),
        migrations.RunPython(codes_from_english_words, migrations.RunPython.noop),
    ]
