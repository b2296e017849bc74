import os

from celery.schedules import crontab

DEBUG = False
INSTALLED_APPS = ["django.contrib.auth", "shop"]

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "amqp://guest@localhost//")
CELERY_RESULT_BACKEND = "redis://localhost:6379/1"
CELERY_TASK_ACKS_LATE = True

# Flower needs task events; without a TTL they pile up in RabbitMQ.
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_EVENT_QUEUE_TTL = None

CELERY_BEAT_SCHEDULE = {
    "sync-inventory": {
        "task": "shop.tasks.sync_inventory",
        "schedule": 1.0,
    },
    "nightly-report": {
        "task": "shop.tasks.build_sales_report",
        "schedule": crontab(hour=3, minute=0),
    },
}
