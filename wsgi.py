"""WSGI entry point for any server: ``gunicorn wsgi:app``.

Run ``moderation db upgrade`` first (``moderation serve`` does it for you).
"""

from moderation import create_app

app = create_app()
