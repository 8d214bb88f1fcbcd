"""Seed records for people and their meetings: HubSpot contacts and meetings, Salesforce Contacts, Leads, Events.

Dirt is added here, where values are written, at low and realistic rates: names in the wrong case or with
stray spaces, "N/A" placeholders, missing fields, phone numbers in any format, employee counts as text
bands, and, very rarely, hostile strings. HubSpot lower-cases and trims contact emails on save, so
oddly-cased or padded addresses only appear on the Salesforce side, which keeps what it is given.
"""

from __future__ import annotations

import random
from typing import Any

from adapters.sandbox.gen_accounts import COMPANY_KIND, account_id, company_id
from adapters.sandbox.gen_people import Person, employee_band
from adapters.sandbox.gen_places import phone_number, spell_country, spell_state
from adapters.sandbox.gen_text import iso_date, iso_ms, messy_case, padded, pick, sf_datetime
from adapters.sandbox.gen_vocab import Vocabulary
from adapters.sandbox.ids import store_id_factory

CONTACT_KIND = "hubspot.contacts"
MEETING_KIND = "hubspot.meetings"
SF_CONTACT_KIND = "salesforce.Contact"
LEAD_KIND = "salesforce.Lead"
EVENT_KIND = "salesforce.Event"
# HubSpot-defined association type ids.
CONTACT_TO_COMPANY = 1
MEETING_TO_CONTACT = 200
MEETING_TO_COMPANY = 188
HOSTILE_RATE = 0.001


class PersonWriter:
    """Turns people into seed records; one random stream, so call it in emission order."""

    def __init__(self, rng: random.Random, vocab: Vocabulary, *, start_ms: int) -> None:
        self.rng = rng
        self.vocab = vocab
        self.start_ms = start_ms  # "now" of the generated world: meetings after it are still scheduled

    # -- shared dirt -----------------------------------------------------------------------------------
    def _name(self, value: str) -> str:
        roll = self.rng.random()
        if roll < HOSTILE_RATE:
            return pick(self.rng, self.vocab.hostile)
        if roll < 0.02:
            return messy_case(self.rng, value)
        if roll < 0.035:
            return padded(self.rng, value)
        return value

    def _maybe_placeholder(self, value: str | None, rate: float = 0.02) -> str | None:
        return pick(self.rng, self.vocab.placeholders) if self.rng.random() < rate else value

    def _company_text(self, person: Person) -> str | None:  # noqa: PLR0911 - one return per way people type it
        """The company as the person typed it: the legal name, a short form, an alias, or nothing useful."""
        rng = self.rng
        roll = rng.random()
        company = person.company
        if company is not None:
            if roll < HOSTILE_RATE * 2:
                return f"{company.base} {pick(rng, self.vocab.hostile)}"
            if roll < 0.6:
                return company.name
            if roll < 0.8:
                return company.base
            if roll < 0.9 and company.alias:
                return company.alias
            return messy_case(rng, company.base) if roll < 0.95 else None
        if roll < 0.12:
            return pick(rng, self.vocab.company_placeholders)
        return None

    def _phone(self, person: Person) -> str | None:
        if self.rng.random() < 0.35:
            return None
        return self._maybe_placeholder(phone_number(self.rng, person.country), 0.015)

    # -- HubSpot ---------------------------------------------------------------------------------------
    def hubspot_contact(self, person: Person) -> dict[str, Any]:
        """The ``hubspot.contacts`` record (string values), associated with its company when HubSpot did that."""
        rng = self.rng
        props: dict[str, Any] = {}
        if rng.random() > 0.004:
            props["email"] = person.email
        if rng.random() > 0.02:
            props["firstname"] = self._name(person.first)
        props["lastname"] = self._name(person.last)
        _put(props, "company", self._company_text(person))
        if rng.random() > 0.15:
            _put(props, "jobtitle", self._maybe_placeholder(person.title))
        _put(props, "phone", self._phone(person))
        _put(props, "country", spell_country(rng, person.country, missing=0.06))
        _put(props, "state", spell_state(rng, person.country, person.city.region))
        if rng.random() < 0.7:
            props["city"] = person.city.name
        if person.zip and rng.random() < 0.55:
            props["zip"] = person.zip
        if rng.random() < 0.75:
            props["hs_language"] = person.language
        props.update(self._hubspot_status(person))
        props["hs_analytics_source"] = pick(rng, self.vocab.hubspot_sources)
        band = employee_band(person.employees)
        if band and rng.random() < 0.6:
            props["numemployees"] = band
        elif rng.random() < 0.02:
            props["numemployees"] = pick(rng, ("50-100", "N/A", "-", "10 - 50", "approx. 200"))
        if person.company is not None and rng.random() < 0.4:
            props["industry"] = person.company.industry.hubspot
        props["product_interest"] = ";".join(person.products)
        props.update(_hubspot_activity(person))
        record: dict[str, Any] = {"kind": CONTACT_KIND, "properties": props, "created_ms": person.created_ms}
        if person.associated and person.company is not None:
            props["associatedcompanyid"] = company_id(person.company)
            record["associations"] = [
                {"to_kind": COMPANY_KIND, "to_id": company_id(person.company), "type_id": CONTACT_TO_COMPANY}
            ]
        return record

    def _hubspot_status(self, person: Person) -> dict[str, str]:
        rng = self.rng
        company = person.company
        if company is not None and company.stage == "customer" and rng.random() < 0.6:
            stage = "customer"
        elif company is not None and company.stage == "opportunity" and rng.random() < 0.5:
            stage = "opportunity"
        elif person.activity.demo_requested:
            stage = "salesqualifiedlead" if rng.random() < 0.4 else "marketingqualifiedlead"
        else:
            stage = "subscriber" if rng.random() < 0.35 else "lead"
        status: dict[str, str] = {"lifecyclestage": stage}
        if person.hs_owner is None:
            status["hs_lead_status"] = "NEW"
        else:
            status["hubspot_owner_id"] = person.hs_owner.owner_id
            # assigned minutes to days after creation (hand-routed portals are slow: the market's complaint)
            delay = int(rng.expovariate(1 / (6 * 3_600_000)))
            status["hubspot_owner_assigneddate"] = iso_ms(min(person.created_ms + delay, self.start_ms - 1))
            status["hs_lead_status"] = pick(
                rng,
                ("OPEN", "IN_PROGRESS", "ATTEMPTED_TO_CONTACT", "CONNECTED", "OPEN_DEAL", "UNQUALIFIED", "BAD_TIMING"),
            )
        return status

    def hubspot_meeting(self, person: Person, contact_seq: int) -> dict[str, Any] | None:
        """A demo meeting booked with the contact's owner, for some engaged contacts (None for most)."""
        rng = self.rng
        activity = person.activity
        if person.hs_owner is None or not (activity.demo_requested or rng.random() < 0.02) or rng.random() < 0.4:
            return None
        start = (activity.recent_conversion_ms or person.created_ms) + int((1 + rng.random() * 6) * 86_400_000)
        outcome = "SCHEDULED" if start > self.start_ms else pick(rng, ("COMPLETED", "COMPLETED", "NO_SHOW", "CANCELED"))
        contact = store_id_factory(CONTACT_KIND, contact_seq)
        associations = [{"to_kind": CONTACT_KIND, "to_id": contact, "type_id": MEETING_TO_CONTACT}]
        if person.associated and person.company is not None:
            company = company_id(person.company)
            associations.append({"to_kind": COMPANY_KIND, "to_id": company, "type_id": MEETING_TO_COMPANY})
        return {
            "kind": MEETING_KIND,
            "properties": {
                "hs_meeting_title": f"Northwind demo: {person.first} {person.last}",
                "hs_timestamp": iso_ms(start),
                "hs_meeting_start_time": iso_ms(start),
                "hs_meeting_end_time": iso_ms(start + 30 * 60_000),
                "hs_meeting_outcome": outcome,
                "hs_meeting_location": f"https://cal.example/{person.hs_owner.email.split('@')[0].replace('.', '-')}",
                "hubspot_owner_id": person.hs_owner.owner_id,
            },
            "created_ms": activity.recent_conversion_ms or person.created_ms,  # when it was booked
            "associations": associations,
        }

    # -- Salesforce ------------------------------------------------------------------------------------
    def _sf_email(self, email: str) -> str:
        roll = self.rng.random()
        if roll < 0.04:
            return messy_case(self.rng, email)
        if roll < 0.055:
            return padded(self.rng, email)
        return email

    def salesforce_person(self, person: Person) -> dict[str, Any]:
        """The person's Salesforce Contact (at an Account) or Lead record."""
        if person.sf_kind == "Contact":
            return self.salesforce_contact(person)
        return self.salesforce_lead(person)

    def salesforce_contact(self, person: Person) -> dict[str, Any]:
        """The ``salesforce.Contact`` record, under its company's Account and that Account's owner."""
        assert person.company is not None
        rng = self.rng
        props: dict[str, Any] = {
            "LastName": self._name(person.last) or "Unknown",
            "Email": self._sf_email(person.email),
            "AccountId": account_id(person.company),
            "OwnerId": person.company.sf_owner.user_id,
            "LeadSource": pick(rng, self.vocab.salesforce_sources),
        }
        if rng.random() > 0.02:
            props["FirstName"] = self._name(person.first)
        if rng.random() > 0.1:
            _put(props, "Title", self._maybe_placeholder(person.title))
        _put(props, "Phone", self._phone(person))
        _put(props, "MailingCountry", spell_country(rng, person.country, missing=0.08))
        if rng.random() < 0.6:
            props["MailingCity"] = person.city.name
        props.update(_salesforce_activity(person))
        return {"kind": SF_CONTACT_KIND, "properties": props, "created_ms": person.created_ms}

    def salesforce_lead(self, person: Person) -> dict[str, Any]:
        """The ``salesforce.Lead`` record; Company is required, so web forms fill ``[not provided]``."""
        rng = self.rng
        owner = person.sf_lead_owner
        queued = owner.startswith("00G")
        props: dict[str, Any] = {
            "LastName": self._name(person.last) or "Unknown",
            "Company": self._company_text(person) or "[not provided]",
            "OwnerId": owner,
            "Status": _lead_status(rng, queued, person),
            "LeadSource": pick(rng, self.vocab.salesforce_sources),
            "Product_Interest__c": ";".join(person.products),
        }
        if rng.random() > 0.003:
            props["Email"] = self._sf_email(person.email)
        if rng.random() > 0.02:
            props["FirstName"] = self._name(person.first)
        if person.company is not None and rng.random() < 0.4:
            props["Website"] = person.company.website
        if rng.random() > 0.12:
            _put(props, "Title", self._maybe_placeholder(person.title))
        _put(props, "Phone", self._phone(person))
        _put(props, "Country", spell_country(rng, person.country, missing=0.06))
        _put(props, "State", spell_state(rng, person.country, person.city.region))
        if rng.random() < 0.6:
            props["City"] = person.city.name
        if person.zip and rng.random() < 0.5:
            props["PostalCode"] = person.zip
        if person.employees is not None and rng.random() < 0.5:
            props["NumberOfEmployees"] = person.employees
        if person.company is not None and rng.random() < 0.4:
            props["Industry"] = person.company.industry.salesforce
        if rng.random() < 0.7:
            props["Language__c"] = person.language
        props.update(_salesforce_activity(person))
        return {"kind": LEAD_KIND, "properties": props, "created_ms": person.created_ms}

    def salesforce_event(self, person: Person, who_seq: int) -> dict[str, Any] | None:
        """A demo Event owned by the person's Salesforce owner, for some engaged people (None for most)."""
        rng = self.rng
        activity = person.activity
        owner = (
            person.company.sf_owner.user_id if person.sf_kind == "Contact" and person.company else person.sf_lead_owner
        )
        if not owner.startswith("005") or not (activity.demo_requested or rng.random() < 0.02) or rng.random() < 0.4:
            return None
        start = (activity.recent_conversion_ms or person.created_ms) + int((1 + rng.random() * 6) * 86_400_000)
        who_kind = SF_CONTACT_KIND if person.sf_kind == "Contact" else LEAD_KIND
        props: dict[str, Any] = {
            "Subject": f"Demo: {person.first} {person.last}",
            "Type": "Meeting",
            "StartDateTime": sf_datetime(start),
            "EndDateTime": sf_datetime(start + 30 * 60_000),
            "ActivityDateTime": sf_datetime(start),
            "DurationInMinutes": 30,
            "WhoId": store_id_factory(who_kind, who_seq),
            "OwnerId": owner,
        }
        if person.sf_kind == "Contact" and person.company is not None:
            props["WhatId"] = account_id(person.company)
        return {
            "kind": EVENT_KIND,
            "properties": props,
            "created_ms": activity.recent_conversion_ms or person.created_ms,
        }


def _lead_status(rng: random.Random, queued: bool, person: Person) -> str:
    if queued:
        return "Open - Not Contacted"
    if person.activity.last_contacted_ms is not None:
        return "Working - Contacted" if rng.random() < 0.85 else "Closed - Not Converted"
    return "Open - Not Contacted"


def _hubspot_activity(person: Person) -> dict[str, str]:
    activity = person.activity
    props = {
        "hs_analytics_num_page_views": str(activity.page_views),
        "hs_analytics_num_visits": str(activity.visits),
        "num_conversion_events": str(activity.conversions),
        "pricing_page_views": str(activity.pricing_views),
        "demo_requested": "true" if activity.demo_requested else "false",
    }
    if activity.recent_event is not None and activity.recent_conversion_ms is not None:
        props["first_conversion_event_name"] = activity.first_event or activity.recent_event
        props["recent_conversion_event_name"] = activity.recent_event
        props["recent_conversion_date"] = iso_ms(activity.recent_conversion_ms)
    if activity.last_visit_ms is not None:
        props["hs_analytics_last_visit_timestamp"] = iso_ms(activity.last_visit_ms)
    if activity.last_contacted_ms is not None and person.hs_owner is not None:
        props["notes_last_contacted"] = iso_ms(activity.last_contacted_ms)
        props["hs_last_sales_activity_timestamp"] = iso_ms(activity.last_contacted_ms)
    return props


def _salesforce_activity(person: Person) -> dict[str, Any]:
    activity = person.activity
    props: dict[str, Any] = {
        "Page_Views__c": activity.page_views,
        "Pricing_Page_Views__c": activity.pricing_views,
        "Demo_Requested__c": activity.demo_requested,
    }
    if activity.recent_event is not None and activity.recent_conversion_ms is not None:
        props["Last_Conversion__c"] = activity.recent_event
        props["Last_Conversion_Date__c"] = sf_datetime(activity.recent_conversion_ms)
    if activity.last_contacted_ms is not None:
        props["LastActivityDate"] = iso_date(activity.last_contacted_ms)
    return props


def _put(props: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        props[key] = value
