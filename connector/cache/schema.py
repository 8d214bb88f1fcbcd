"""The cache's tables (component ``cache`` in ``connector.db`` migrations).

One record table per entity, each keeping the CRM, the native id, the raw properties we read (JSON) and the
normalized fields as columns so lookups use indexes:

* ``cache_people``: HubSpot contacts, Salesforce Leads and Contacts (indexed by email, email domain, account, owner);
* ``cache_accounts``: HubSpot companies and Salesforce Accounts (indexed by domain, parent, owner);
* ``cache_owners``: HubSpot owners, Salesforce Users and lead Queues (indexed by key = normalized email);
* ``cache_activities``: HubSpot tasks, calls, emails, meetings and Salesforce Tasks and Events (by owner, account),
  with ``cache_activity_people`` linking each to its people;
* ``cache_deals``: HubSpot deals and Salesforce Opportunities (by account), with ``cache_deal_people``.

Common bookkeeping columns: ``modified_ms`` (the CRM's stamp), ``deleted``/``deleted_ms`` (tombstones: a deleted
record stays so the router's change feed can say so), ``content_hash`` (a re-read of an unchanged record is not a
change), ``change_seq``/``created_seq`` (the cache's own monotonically increasing change feed, independent of CRM
clocks), ``sweep_token`` (which full read last saw the record, for deleting what a full read no longer returns).

References between records (a person's account, an account's parent, an owner) are plain columns, not foreign
keys: a CRM reference may point at a record we have not read yet, or never will (a deleted parent), and the cache
must still hold what the CRM holds. ``cache_sync_state`` holds each stream's cursor, written in the same
transaction as the page it covers; ``cache_crm_pauses`` remembers a CRM paused for a spent daily budget.
"""

from __future__ import annotations

import sqlite_utils

from connector.db import Migration, migrate

COMPONENT = "cache"

_BOOKKEEPING = """
    properties TEXT NOT NULL DEFAULT '{}',
    created_ms INTEGER NOT NULL DEFAULT 0,
    modified_ms INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    deleted_ms INTEGER,
    content_hash TEXT NOT NULL,
    change_seq INTEGER NOT NULL,
    created_seq INTEGER NOT NULL,
    sweep_token TEXT,
    synced_ms INTEGER NOT NULL
"""

V1 = f"""
CREATE TABLE cache_people (
    id TEXT PRIMARY KEY,
    crm TEXT NOT NULL,
    object TEXT NOT NULL,
    native_id TEXT NOT NULL,
    email TEXT,
    email_domain TEXT,
    first_name TEXT,
    last_name TEXT,
    company TEXT,
    title TEXT,
    phone TEXT,
    country TEXT,
    state TEXT,
    postal_code TEXT,
    city TEXT,
    employees INTEGER,
    industry TEXT,
    source TEXT,
    language TEXT,
    products TEXT NOT NULL DEFAULT '[]',
    owner_native_id TEXT,
    account_id TEXT,
    activity TEXT NOT NULL DEFAULT '{{}}',
    {_BOOKKEEPING}
);
CREATE INDEX cache_people_email ON cache_people (email) WHERE email IS NOT NULL;
CREATE INDEX cache_people_email_domain ON cache_people (email_domain) WHERE email_domain IS NOT NULL;
CREATE INDEX cache_people_account ON cache_people (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX cache_people_owner ON cache_people (crm, owner_native_id);
CREATE INDEX cache_people_change ON cache_people (change_seq);
CREATE INDEX cache_people_sweep ON cache_people (crm, object, sweep_token);

CREATE TABLE cache_accounts (
    id TEXT PRIMARY KEY,
    crm TEXT NOT NULL,
    object TEXT NOT NULL,
    native_id TEXT NOT NULL,
    name TEXT NOT NULL,
    domain TEXT,
    extra_domains TEXT NOT NULL DEFAULT '[]',
    country TEXT,
    state TEXT,
    postal_code TEXT,
    parent_id TEXT,
    owner_native_id TEXT,
    employees INTEGER,
    industry TEXT,
    is_customer INTEGER NOT NULL DEFAULT 0,
    has_open_opportunity INTEGER NOT NULL DEFAULT 0,
    last_activity_ms INTEGER,
    {_BOOKKEEPING}
);
CREATE INDEX cache_accounts_domain ON cache_accounts (domain) WHERE domain IS NOT NULL;
CREATE INDEX cache_accounts_parent ON cache_accounts (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX cache_accounts_owner ON cache_accounts (crm, owner_native_id);
CREATE INDEX cache_accounts_change ON cache_accounts (change_seq);
CREATE INDEX cache_accounts_sweep ON cache_accounts (crm, object, sweep_token);

-- One row per extra domain so a domain lookup finds accounts by any of their domains with an index.
CREATE TABLE cache_account_domains (
    account_id TEXT NOT NULL REFERENCES cache_accounts (id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    PRIMARY KEY (domain, account_id)
) WITHOUT ROWID;

CREATE TABLE cache_owners (
    id TEXT PRIMARY KEY,
    crm TEXT NOT NULL,
    object TEXT NOT NULL,
    native_id TEXT NOT NULL,
    key TEXT NOT NULL,
    email TEXT,
    name TEXT NOT NULL,
    active INTEGER NOT NULL,
    is_queue INTEGER NOT NULL DEFAULT 0,
    teams TEXT NOT NULL DEFAULT '[]',
    {_BOOKKEEPING}
);
CREATE UNIQUE INDEX cache_owners_native ON cache_owners (crm, native_id);
CREATE INDEX cache_owners_key ON cache_owners (key);
CREATE INDEX cache_owners_sweep ON cache_owners (crm, object, sweep_token);

CREATE TABLE cache_sync_state (
    stream TEXT PRIMARY KEY,
    phase TEXT NOT NULL CHECK (phase IN ('backfill', 'incremental')),
    list_after TEXT,
    sweep_token TEXT,
    started_ms INTEGER,
    watermark_ms INTEGER,
    watermark_id TEXT,
    deletions_after TEXT,
    updated_ms INTEGER NOT NULL
);

CREATE TABLE cache_crm_pauses (
    crm TEXT PRIMARY KEY,
    resume_at REAL NOT NULL,
    reason TEXT NOT NULL
);
"""

# Activities (HubSpot tasks/calls/emails/meetings, Salesforce Tasks/Events) and deals (HubSpot deals, Salesforce
# Opportunities). The people each links to sit in a link table so "activities on this lead" is an index lookup;
# ``person_ids`` on the row keeps the CRM's list itself (it is part of the content hash, so a new link is a change).
V2 = f"""
CREATE TABLE cache_activities (
    id TEXT PRIMARY KEY,
    crm TEXT NOT NULL,
    object TEXT NOT NULL,
    native_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('task', 'call', 'email', 'meeting', 'event')),
    owner_native_id TEXT,
    person_ids TEXT NOT NULL DEFAULT '[]',
    account_id TEXT,
    occurred_ms INTEGER,
    completed INTEGER,
    outcome TEXT,
    subject TEXT,
    {_BOOKKEEPING}
);
CREATE INDEX cache_activities_owner ON cache_activities (crm, owner_native_id);
CREATE INDEX cache_activities_account ON cache_activities (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX cache_activities_change ON cache_activities (change_seq);
CREATE INDEX cache_activities_sweep ON cache_activities (crm, object, sweep_token);

CREATE TABLE cache_activity_people (
    activity_id TEXT NOT NULL REFERENCES cache_activities (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL,
    PRIMARY KEY (person_id, activity_id)
) WITHOUT ROWID;
CREATE INDEX cache_activity_people_activity ON cache_activity_people (activity_id);

CREATE TABLE cache_deals (
    id TEXT PRIMARY KEY,
    crm TEXT NOT NULL,
    object TEXT NOT NULL,
    native_id TEXT NOT NULL,
    name TEXT,
    account_id TEXT,
    person_ids TEXT NOT NULL DEFAULT '[]',
    owner_native_id TEXT,
    stage TEXT,
    pipeline TEXT,
    is_closed INTEGER NOT NULL DEFAULT 0,
    is_won INTEGER NOT NULL DEFAULT 0,
    amount REAL,
    close_ms INTEGER,
    closed_ms INTEGER,
    {_BOOKKEEPING}
);
CREATE INDEX cache_deals_account ON cache_deals (account_id, is_closed) WHERE account_id IS NOT NULL;
CREATE INDEX cache_deals_owner ON cache_deals (crm, owner_native_id);
CREATE INDEX cache_deals_change ON cache_deals (change_seq);
CREATE INDEX cache_deals_sweep ON cache_deals (crm, object, sweep_token);

CREATE TABLE cache_deal_people (
    deal_id TEXT NOT NULL REFERENCES cache_deals (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL,
    PRIMARY KEY (person_id, deal_id)
) WITHOUT ROWID;
CREATE INDEX cache_deal_people_deal ON cache_deal_people (deal_id);
"""

MIGRATIONS = (
    Migration(1, "people, accounts, owners, sync state and CRM pauses", V1),
    Migration(2, "activities and deals, with the people each links to", V2),
)


def migrate_cache(db: sqlite_utils.Database) -> int:
    """Bring the cache tables up to date; returns the schema version."""
    return migrate(db, COMPONENT, MIGRATIONS)
