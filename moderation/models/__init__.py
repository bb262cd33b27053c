"""Persistence: typed SQLAlchemy 2.0 models, one module per area. No rendering, no
commits, no requests here.

Every model is imported here, so ``from moderation.models import Comment`` works and
importing this package registers every table on the metadata (Alembic relies on it).
"""

from moderation.models.audit import AuditEvent
from moderation.models.base import Base, UTCDateTime, enum_column
from moderation.models.comments import Comment, CommentRevision, Site, StatusCount, Thread
from moderation.models.form_tokens import UsedFormToken
from moderation.models.integrations import (
    DeliveryAttempt,
    DeliveryState,
    Integration,
    OutboxDelivery,
    WebhookReceipt,
)
from moderation.models.moderators import Moderator, ModeratorRole, ModeratorSite
from moderation.models.notifications import (
    ChatHook,
    EmailLink,
    ModeratorSiteNotify,
    NotifyAddress,
    ThreadSubscription,
)
from moderation.models.person_links import PersonLink
from moderation.models.removed_imports import RemovedImport
from moderation.models.sessions import DashboardSession
from moderation.models.spam import BlockEntry, CommentSpam, SpamCount
from moderation.models.statistics import DailyOutcome, DailyQueueDepth

__all__ = [
    "AuditEvent",
    "Base",
    "BlockEntry",
    "ChatHook",
    "Comment",
    "CommentRevision",
    "CommentSpam",
    "DailyOutcome",
    "DailyQueueDepth",
    "DashboardSession",
    "DeliveryAttempt",
    "DeliveryState",
    "EmailLink",
    "Integration",
    "Moderator",
    "ModeratorRole",
    "ModeratorSite",
    "ModeratorSiteNotify",
    "NotifyAddress",
    "OutboxDelivery",
    "PersonLink",
    "RemovedImport",
    "Site",
    "SpamCount",
    "StatusCount",
    "Thread",
    "ThreadSubscription",
    "UTCDateTime",
    "UsedFormToken",
    "WebhookReceipt",
    "enum_column",
]
