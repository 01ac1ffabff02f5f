"""A small HubSpot account with the mess real ones have, planted for the connector tests (the ground truth).

Contacts with lifecycle histories in HubSpot's internal spellings, a custom lifecycle stage (numeric
id), placeholders ("Unknown", "n/a"), size ranges ("25-50", "1000+"), three contacts imported at one
instant, one deleted between the search and the batch read, one deleted long ago (and a deal); names and phone numbers that must never
be requested; deals in two pipelines (one with numeric stage ids), one without a contact; calls,
e-mails (one incoming), meetings (one cancelled); two forms whose submissions carry names and phones;
a newsletter's events (processed, sent, delivered, a machine open HubSpot filtered, an open, a click).
"""

from __future__ import annotations

from fake_hubspot import FakeHubSpot, Record, email_event, pipeline, stage

IMPORTED_AT = "2024-01-25T08:00:00.000Z"  # three contacts imported at one instant


def _contact(cid: str, email: str, created: str, modified: str, history: list[tuple[str, str]],
             **props: str | None) -> Record:
    """``history``: (value, timestamp) oldest first; the current stage is the last value."""
    base: dict[str, str | None] = {
        "email": email, "firstname": f"First{cid}", "lastname": f"Last{cid}", "phone": f"+1 555 0{cid}",
        "address": f"{cid} Main Street", "createdate": created, "lastmodifieddate": modified,
        "lifecyclestage": history[-1][0] if history else None, "hs_analytics_source": "ORGANIC_SEARCH",
        "hs_analytics_source_data_1": None, "hs_lead_status": None, "company": None, "industry": None,
        "numemployees": None, "country": None, "jobtitle": None, "hubspot_owner_id": "52550153",
        "hs_merged_object_ids": None,
    }
    base.update(props)
    entries = [{"value": v, "timestamp": t} for v, t in reversed(history)]
    return Record(cid, base, {"lifecyclestage": entries})


def _deal(did: str, contacts: list[str], stages: list[tuple[str, str]], pipeline_id: str = "default",
          **props: str | None) -> Record:
    base: dict[str, str | None] = {
        "dealname": f"Deal {did} for Contact{contacts[0] if contacts else ''}", "createdate": stages[0][1],
        "hs_lastmodifieddate": stages[-1][1], "dealstage": stages[-1][0], "pipeline": pipeline_id,
        "amount": None, "deal_currency_code": "EUR", "closedate": None, "hs_is_closed": "false",
        "hs_is_closed_won": "false", "hubspot_owner_id": "52550153",
    }
    base.update(props)
    return Record(did, base, {"dealstage": [{"value": v, "timestamp": t} for v, t in reversed(stages)]}, contacts)


def _engagement(eid: str, when: str, contacts: list[str], **props: str | None) -> Record:
    return Record(eid, {"hs_timestamp": when, "hs_createdate": when, "hs_lastmodifieddate": when,
                        "hs_call_body": "Spoke with the prospect at +1 555 0199", "hs_email_subject": "Hi Ana",
                        **props}, contacts=contacts)


def acme() -> FakeHubSpot:
    org = FakeHubSpot()
    org.pipelines["contacts"] = [pipeline("contacts-lifecycle-pipeline", "Lifecycle Stage Pipeline", [
        stage("subscriber", "Subscriber", 0, False, "0"), stage("lead", "Lead", 1, False, "0"),
        stage("marketingqualifiedlead", "Marketing Qualified Lead", 2, False, "0"),
        stage("1011234", "Sales Accepted Lead", 3, False, "0"),
        stage("salesqualifiedlead", "Sales Qualified Lead", 4, False, "0"),
        stage("opportunity", "Opportunity", 5, False, "0"), stage("customer", "Customer", 6, False, "0"),
        stage("evangelist", "Evangelist", 7, False, "0"), stage("other", "Other", 8, False, "0")])]
    org.pipelines["deals"] = [
        pipeline("default", "Sales Pipeline", [
            stage("appointmentscheduled", "Appointment Scheduled", 0, False, "0.2"),
            stage("qualifiedtobuy", "Qualified To Buy", 1, False, "0.4"),
            stage("contractsent", "Contract Sent", 2, False, "0.9"),
            stage("closedwon", "Closed Won", 3, True, "1.0"),
            stage("closedlost", "Closed Lost", 4, True, "0.0")]),
        pipeline("partner", "Partner Pipeline", [
            stage("1234566", "Partner Intro", 0, False, "0.3", updated="2023-02-01T08:00:00.000Z"),
            stage("1234567", "Partner Won", 1, True, "1.0", updated="2023-02-01T08:00:00.000Z"),
            stage("1234568", "Partner Lost", 2, True, "0.0", updated="2023-02-01T08:00:00.000Z")]),
    ]
    for rec in (
        _contact("101", "Ana.Lopez@Example.com", "2024-01-02T09:00:00.000Z", "2024-02-20T10:00:00.000Z",
                 [("lead", "2024-01-02T09:00:00.000Z"), ("marketingqualifiedlead", "2024-01-05T11:30:00.000Z"),
                  ("salesqualifiedlead", "2024-01-10T15:00:00.000Z"), ("opportunity", "2024-01-12T09:15:00.000Z"),
                  ("customer", "2024-02-20T10:00:00.000Z")],
                 hs_analytics_source_data_1="google", hs_lead_status="CONNECTED", company="Acme GmbH",
                 industry="COMPUTER_SOFTWARE", numemployees="25-50", country="Germany", jobtitle="Founder"),
        _contact("102", "ben@example.org", "2024-01-03T10:00:00.000Z", "2024-01-08T12:00:00.000Z",
                 [("subscriber", "2024-01-03T10:00:00.000Z"), ("lead", "2024-01-04T10:00:00.000Z"),
                  ("marketingqualifiedlead", "2024-01-08T12:00:00.000Z")],
                 hs_analytics_source="PAID_SEARCH", numemployees="1000+", jobtitle="CTO", hs_lead_status="OPEN"),
        _contact("103", "cara@example.net", "2024-01-05T08:00:00.000Z", "2024-01-15T16:00:00.000Z",
                 [("lead", "2024-01-05T08:00:00.000Z"), ("1011234", "2024-01-15T16:00:00.000Z")],
                 hs_analytics_source="OFFLINE", industry="Unknown", country="n/a", numemployees="250"),
        _contact("104", "dev@example.com", "2024-01-20T07:00:00.000Z", "2024-01-20T07:00:00.000Z",
                 [("lead", "2024-01-20T07:00:00.000Z")], hs_analytics_source="DIRECT_TRAFFIC",
                 hs_lead_status="UNQUALIFIED"),
        *(_contact(cid, f"import{cid}@example.com", IMPORTED_AT, IMPORTED_AT, [("lead", IMPORTED_AT)],
                   hs_analytics_source="OFFLINE", hs_analytics_source_data_1="IMPORT")
          for cid in ("105", "106", "107")),
        _contact("108", "gus@example.com", "2024-01-28T13:00:00.000Z", "2024-01-28T13:00:00.000Z",
                 [("lead", "2024-01-28T13:00:00.000Z")], hs_analytics_source="REFERRALS"),
    ):
        org.add("contacts", rec)
    org.hidden.add("107")  # deleted after the search indexed it: the batch read answers 207 for it
    org.add("contacts", _contact("099", "old@example.com", "2023-05-01T08:00:00.000Z", "2023-06-01T08:00:00.000Z",
                                 [("lead", "2023-05-01T08:00:00.000Z")]))
    org.delete("contacts", "099", "2023-12-01T10:00:00.000Z")  # deleted before the first pull
    for rec in (
        _deal("901", ["101"], [("appointmentscheduled", "2024-01-12T09:20:00.000Z"),
                               ("contractsent", "2024-02-01T10:00:00.000Z"), ("closedwon", "2024-02-20T10:05:00.000Z")],
              amount="12000.50", closedate="2024-02-20T10:05:00.000Z", hs_is_closed="true", hs_is_closed_won="true"),
        _deal("902", ["102"], [("appointmentscheduled", "2024-01-09T09:00:00.000Z")], amount="5000",
              closedate="2024-03-31T00:00:00.000Z"),  # a forecast close date on an open deal
        _deal("903", ["103"], [("1234566", "2024-01-16T09:00:00.000Z"), ("1234568", "2024-01-30T09:00:00.000Z")],
              pipeline_id="partner", amount="", closedate="2024-01-30T09:00:00.000Z", hs_is_closed="true"),
        _deal("904", [], [("closedlost", "2024-01-18T09:00:00.000Z")], amount="800",
              closedate="2024-01-18T09:00:00.000Z", hs_is_closed="true"),
        _deal("906", ["108"], [("qualifiedtobuy", "2024-01-29T09:00:00.000Z"), ("1234567", "2024-02-10T09:00:00.000Z")],
              pipeline_id="partner", amount="2,500.00", hs_is_closed="true", hs_is_closed_won=None),  # no close date
        _deal("905", ["104"], [("appointmentscheduled", "2024-01-21T09:00:00.000Z")], amount="300"),
    ):
        org.add("deals", rec)
    org.delete("deals", "905", "2024-01-22T09:00:00.000Z")  # a duplicate deal, deleted
    org.add("calls", _engagement("701", "2024-01-06T14:00:00.000Z", ["101", "102"], hs_call_direction="OUTBOUND",
                                 hs_call_status="COMPLETED"))
    org.add("emails", _engagement("711", "2024-01-09T09:30:00.000Z", ["102"], hs_email_direction="EMAIL"))
    org.add("emails", _engagement("712", "2024-01-09T11:00:00.000Z", ["102"], hs_email_direction="INCOMING_EMAIL"))
    org.add("meetings", _engagement("721", "2024-01-10T08:00:00.000Z", ["101"],
                                    hs_meeting_start_time="2024-01-11T15:00:00.000Z", hs_meeting_outcome="COMPLETED"))
    org.add("meetings", _engagement("722", "2024-01-16T08:00:00.000Z", ["103"],
                                    hs_meeting_start_time="2024-01-17T15:00:00.000Z", hs_meeting_outcome="CANCELED"))
    org.forms = [{"id": "b3e1c5a0-7d2f-4c8e-9a4b-1f2e3d4c5b6a", "name": "Contact us", "formType": "hubspot",
                  "createdAt": "2023-01-01T08:00:00.000Z", "updatedAt": "2023-06-01T08:00:00.000Z", "archived": False},
                 {"id": "0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f", "name": "Webinar signup", "formType": "hubspot",
                  "createdAt": "2023-01-01T08:00:00.000Z", "updatedAt": "2023-06-01T08:00:00.000Z", "archived": False}]
    org.submissions = {
        "b3e1c5a0-7d2f-4c8e-9a4b-1f2e3d4c5b6a": [
            _submission("c-1", "2024-01-02T08:59:00.000Z", " ANA.LOPEZ@example.com", "Ana"),
            _submission("c-2", "2024-01-07T10:00:00.000Z", "ben@example.org", "Ben"),
            _submission("c-3", "2024-01-09T10:00:00.000Z", "zed@nowhere.test", "Zed"),  # no such contact
            _submission("c-4", "2024-01-26T10:00:00.000Z", "import106@example.com", "Ivo"),
        ],
        "0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f": [
            _submission("w-1", "2024-01-28T12:59:00.000Z", "gus@example.com", "Gus"),
        ],
    }
    org.campaigns = {"2500001": {"id": 2500001, "appId": 113, "appName": "Batch", "contentId": 61234567,
                                 "name": "January newsletter", "subject": "What's new", "type": "BATCH_EMAIL"}}
    org.email_events = [
        email_event("e-1", "PROCESSED", "2024-01-04T09:00:00.000Z", "ana.lopez@example.com", 2500001),
        email_event("e-2", "SENT", "2024-01-04T09:00:01.000Z", "ana.lopez@example.com", 2500001),
        email_event("e-3", "DELIVERED", "2024-01-04T09:00:02.000Z", "ana.lopez@example.com", 2500001),
        email_event("e-4", "OPEN", "2024-01-04T09:00:03.000Z", "ana.lopez@example.com", 2500001, filtered=True),
        email_event("e-5", "OPEN", "2024-01-04T12:30:00.000Z", "ana.lopez@example.com", 2500001),
        email_event("e-6", "CLICK", "2024-01-04T12:31:00.000Z", "ana.lopez@example.com", 2500001),
        email_event("e-7", "SENT", "2024-01-04T09:00:01.000Z", "ben@example.org", 2500001),
        email_event("e-8", "SENT", "2024-01-04T09:00:01.000Z", "stranger@example.com", 2500001),  # not a contact
    ]
    return org


def _submission(conversion: str, when: str, email: str, first: str) -> dict[str, object]:
    from fake_hubspot import ms

    return {"conversionId": f"{conversion}-5f2e", "submittedAt": ms(when), "pageUrl": f"https://acme.test/contact?"
            f"email={email.strip()}", "values": [
                {"name": "email", "value": email, "objectTypeId": "0-1"},
                {"name": "firstname", "value": first, "objectTypeId": "0-1"},
                {"name": "phone", "value": "+49 30 1234567", "objectTypeId": "0-1"}]}
