"""celerylint: a static linter for Celery code and settings."""
__version__ = "0.1.0"
