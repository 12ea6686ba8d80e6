from django.db import models


class Heartbeat(models.Model):
    """When a scheduled job last ran, one row per job name (`beat`: ops.tasks.beat_heartbeat).

    Readiness (ops.health.BeatHeartbeat) compares `beat_at` with the job's schedule.
    """

    name = models.CharField(max_length=40, primary_key=True)
    beat_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
