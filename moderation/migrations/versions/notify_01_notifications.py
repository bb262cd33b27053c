"""notifications: moderators' addresses and choices, email links, commenters'
subscriptions, chat hooks; the outbox carries emails and chat messages too

Revision ID: notify_01
Revises: spam_01
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'notify_01'
down_revision = 'spam_01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('moderators') as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(100), nullable=False, server_default=''))
        batch_op.add_column(
            sa.Column('notify_mode', sa.String(20), nullable=False, server_default='each')
        )
        batch_op.add_column(sa.Column('digest_sent_at', sa.DateTime(), nullable=True))
    op.create_table(
        'moderator_site_notify',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('moderator_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('mode', sa.String(20), nullable=False),
        sa.ForeignKeyConstraint(['moderator_id'], ['moderators.id'], name=op.f('fk_moderator_site_notify_moderator_id_moderators'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_moderator_site_notify_site_id_sites'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_moderator_site_notify')),
        sa.UniqueConstraint('moderator_id', 'site_id', name='uq_moderator_site_notify_moderator_id'),
    )
    op.create_table(
        'email_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(64), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('moderator_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.Column('used_action', sa.String(20), nullable=False),
        sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_email_links_comment_id_comments'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['moderator_id'], ['moderators.id'], name=op.f('fk_email_links_moderator_id_moderators'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_email_links_token_hash')),
    )
    op.create_table(
        'notify_addresses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(100), nullable=False),
        sa.Column('language', sa.String(10), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('confirmation_sent_at', sa.DateTime(), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('unsubscribed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_notify_addresses_site_id_sites'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notify_addresses')),
        sa.UniqueConstraint('site_id', 'email', name='uq_notify_addresses_site_id'),
    )
    op.create_table(
        'thread_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('address_id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('unsubscribed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['address_id'], ['notify_addresses.id'], name=op.f('fk_thread_subscriptions_address_id_notify_addresses'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_thread_subscriptions_thread_id_threads'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_thread_subscriptions')),
        sa.UniqueConstraint('address_id', 'thread_id', name='uq_thread_subscriptions_address_id'),
    )
    op.create_index('ix_thread_subscriptions_thread', 'thread_subscriptions', ['thread_id'])
    op.create_table(
        'chat_hooks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(2000), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_chat_hooks_site_id_sites'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_hooks')),
    )
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.alter_column('integration_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(
            sa.Column('channel', sa.String(20), nullable=False, server_default='webhook')
        )
        batch_op.add_column(sa.Column('recipient', sa.String(100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('site_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('chat_hook_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f('fk_outbox_site_id_sites'), 'sites', ['site_id'], ['id'], ondelete='CASCADE'
        )
        batch_op.create_foreign_key(
            op.f('fk_outbox_chat_hook_id_chat_hooks'), 'chat_hooks', ['chat_hook_id'], ['id'],
            ondelete='CASCADE',
        )
        batch_op.create_index(
            'ix_outbox_channel_recipient_created', ['channel', 'recipient', 'created_at']
        )
        batch_op.create_index('ix_outbox_channel_site_created', ['channel', 'site_id', 'created_at'])


def downgrade():
    op.execute("DELETE FROM outbox WHERE channel != 'webhook'")
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.drop_index('ix_outbox_channel_site_created')
        batch_op.drop_index('ix_outbox_channel_recipient_created')
        batch_op.drop_constraint(op.f('fk_outbox_chat_hook_id_chat_hooks'), type_='foreignkey')
        batch_op.drop_constraint(op.f('fk_outbox_site_id_sites'), type_='foreignkey')
        batch_op.drop_column('chat_hook_id')
        batch_op.drop_column('site_id')
        batch_op.drop_column('recipient')
        batch_op.drop_column('channel')
        batch_op.alter_column('integration_id', existing_type=sa.Integer(), nullable=False)
    op.drop_table('chat_hooks')
    op.drop_index('ix_thread_subscriptions_thread', table_name='thread_subscriptions')
    op.drop_table('thread_subscriptions')
    op.drop_table('notify_addresses')
    op.drop_table('email_links')
    op.drop_table('moderator_site_notify')
    with op.batch_alter_table('moderators') as batch_op:
        batch_op.drop_column('digest_sent_at')
        batch_op.drop_column('notify_mode')
        batch_op.drop_column('email')
