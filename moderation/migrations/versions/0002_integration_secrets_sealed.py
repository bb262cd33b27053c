"""integration secrets sealed at rest; integrations can be disabled

Revision ID: 0002_integration_secrets
Revises: 0001
Create Date: 2026-11-29

Seals every integration secret (current and previous) that is still stored in clear with
AES-256-GCM under a key derived from the app's SECRET_KEY (the format of
``moderation/services/secret_box.py``, written out here so this revision never changes),
and adds ``integrations.disabled_at``. The downgrade opens them again.

Run it with the SECRET_KEY the service uses: ``moderation db upgrade`` (and ``moderation
serve``, which migrates) load it like the service does. ``--sql`` (offline) mode cannot
seal anything: it only adds the column.
"""
import base64
import os

import sqlalchemy as sa
from alembic import context, op
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# revision identifiers, used by Alembic.
revision = '0002_integration_secrets'
down_revision = '0001'
branch_labels = None
depends_on = None

PREFIX = "v1:"
HKDF_INFO = b"moderation/integration-secrets/v1"


def _cipher():
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        str(current_app.config["SECRET_KEY"]).encode()
    )
    return AESGCM(key)


def _seal(cipher, value, public_id):
    nonce = os.urandom(12)
    sealed = cipher.encrypt(nonce, value.encode(), public_id.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def _open(cipher, stored, public_id):
    raw = base64.urlsafe_b64decode(stored[len(PREFIX):])
    return cipher.decrypt(raw[:12], raw[12:], public_id.encode()).decode()


def _rewrite(change):
    """Apply ``change(cipher, value, public_id)`` to every secret that needs it."""
    connection = op.get_bind()
    cipher = _cipher()
    rows = connection.execute(
        sa.text("SELECT id, public_id, secret, previous_secret FROM integrations")
    ).all()
    for row in rows:
        values = {
            name: change(cipher, value, row.public_id)
            for name, value in (("secret", row.secret), ("previous_secret", row.previous_secret))
            if value is not None
        }
        values = {name: value for name, value in values.items() if value is not None}
        if values:
            assignments = ", ".join(f"{name} = :{name}" for name in values)
            connection.execute(
                sa.text(f"UPDATE integrations SET {assignments} WHERE id = :id"),
                {**values, "id": row.id},
            )


def upgrade():
    with op.batch_alter_table('integrations') as batch_op:
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(), nullable=True))
    if not context.is_offline_mode():
        _rewrite(
            lambda cipher, value, public_id: None
            if value.startswith(PREFIX)
            else _seal(cipher, value, public_id)
        )


def downgrade():
    if not context.is_offline_mode():
        _rewrite(
            lambda cipher, value, public_id: _open(cipher, value, public_id)
            if value.startswith(PREFIX)
            else None
        )
    with op.batch_alter_table('integrations') as batch_op:
        batch_op.drop_column('disabled_at')
