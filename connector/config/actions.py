"""Config section: what a routing decision sets in motion (owner write-back, task, Slack and email) and how the
outbox delivers it. Defaults make a minimal file valid: write the owner and a task, notify nobody until a channel
is configured (a nudge needs a token or an SMTP server the defaults cannot know).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlackConfig(_Section):
    """Slack nudges through a bot token (scopes: chat:write, im:write, users:read.email, im:history)."""

    enabled: bool = False
    token: SecretStr | None = Field(default=None, description="Bot token (xoxb-...); from the env or a file.")
    base_url: str = Field(default="https://slack.com/api/", description="Slack's Web API; tests point it elsewhere.")
    channel: str | None = Field(
        default=None, description="Post every nudge to this channel id instead of the rep's DM (None: DM the rep)."
    )
    timeout_s: float = Field(default=10.0, gt=0, description="Per call; Slack answers in well under a second.")


class EmailConfig(_Section):
    """Email nudges over SMTP (plain text + HTML)."""

    enabled: bool = False
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535, description="587 = submission with STARTTLS, the common case.")
    starttls: bool = True
    ssl: bool = Field(default=False, description="Implicit TLS (port 465) instead of STARTTLS.")
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "leadrelay <leadrelay@localhost>"
    cc: tuple[str, ...] = Field(default=(), description="Addresses copied on every nudge (e.g. a team lead).")
    only_without_slack: bool = Field(
        default=False, description="Email only reps who have no Slack identity (avoids double nudges)."
    )
    timeout_s: float = Field(default=15.0, gt=0)


class LinksConfig(_Section):
    """How to link to a record in each CRM's UI from a task, a Slack message or an email."""

    hubspot_portal_id: str | None = Field(default=None, description="Portal (hub) id used in app.hubspot.com links.")
    hubspot_app_url: str = "https://app.hubspot.com"
    salesforce_instance_url: str | None = Field(default=None, description="e.g. https://acme.my.salesforce.com")


class TemplatesConfig(_Section):
    """Subject lines, formatted with {action}, {lead_name}, {company}; the bodies are fixed, escaped layouts."""

    task_subject: str = "{action}: {lead_name} ({company})"
    notification_title: str = "New lead for you: {lead_name} ({company})"


class OutboxConfig(_Section):
    """Delivery: batching, leases and retries."""

    hubspot_batch_size: int = Field(default=100, ge=1, le=100, description="HubSpot batch endpoints take 100.")
    salesforce_batch_size: int = Field(default=200, ge=1, le=200, description="sObject Collections take 200.")
    notify_batch_size: int = Field(default=20, ge=1, le=200, description="Notifications are one call each.")
    lease_s: float = Field(
        default=120.0, gt=0, description="A claimed item is redelivered after this if its worker died."
    )
    max_attempts: int = Field(default=8, ge=1, description="Claims before an item goes to the dead letter.")
    backoff_s: float = Field(default=2.0, gt=0, description="First wait between claims; doubles each attempt.")
    backoff_max_s: float = Field(default=300.0, gt=0, description="Longest wait between claims.")
    poll_interval_s: float = Field(default=1.0, gt=0, description="Idle worker sleep when nothing is due.")


class ActionsConfig(_Section):
    """What each routing decision does, and to whom."""

    write_owner: bool = True
    create_task: bool = True
    task_priority: str = Field(default="HIGH", description="HubSpot HIGH/MEDIUM/LOW; Salesforce High/Normal/Low.")
    slack: SlackConfig = Field(default_factory=SlackConfig)
    email: EmailConfig = Field(default_factory=EmailConfig)
    links: LinksConfig = Field(default_factory=LinksConfig)
    templates: TemplatesConfig = Field(default_factory=TemplatesConfig)
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
