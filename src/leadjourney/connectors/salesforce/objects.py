"""The Salesforce objects pulled, and the fields requested of each (only what the mapping needs).

No names, phone numbers or addresses are requested: personal data is dropped by default by never
fetching it. E-mail addresses (``Lead.Email``, ``Contact.Email``) are declared personal: the raw
store keeps only the workspace's salted hash unless ``[privacy] keep_emails``. Subject lines and
descriptions of tasks and events are not requested either (people type names and numbers into them).

Every object is queried with queryAll, so a deleted or merged record (``IsDeleted``) comes back as a
new version of itself and the canonical mapping leaves it out.
"""

from __future__ import annotations

from leadjourney.connectors.base import ObjectSpec

MODSTAMP = "SystemModstamp"
CREATED = "CreatedDate"

# object name -> (cursor, personal e-mail fields, extra WHERE condition)
_SPECS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "Lead": (MODSTAMP, ("Email",), ""),
    "LeadHistory": (CREATED, (), "Field = 'Status'"),
    "Contact": (MODSTAMP, ("Email",), ""),
    "Opportunity": (MODSTAMP, (), ""),
    "OpportunityHistory": (CREATED, (), ""),
    "OpportunityContactRole": (MODSTAMP, (), ""),
    "Task": (MODSTAMP, (), ""),
    "Event": (MODSTAMP, (), ""),
    "Campaign": (MODSTAMP, (), ""),
    "CampaignMember": (MODSTAMP, (), ""),
}

OBJECTS: tuple[ObjectSpec, ...] = tuple(
    ObjectSpec(name, key=("Id",), cursor=cursor, personal=personal) for name, (cursor, personal, _) in _SPECS.items()
)

# the fields requested of each object, when the org has them (``Owner.Name``: when it has OwnerId)
FIELDS: dict[str, tuple[str, ...]] = {
    "Lead": ("Id", "IsDeleted", "MasterRecordId", "CreatedDate", "SystemModstamp", "LeadSource", "Status",
             "Company", "Industry", "NumberOfEmployees", "Country", "Title", "Email", "OwnerId", "Owner.Name",
             "IsConverted", "ConvertedDate", "ConvertedContactId", "ConvertedOpportunityId", "ConvertedAccountId"),
    "LeadHistory": ("Id", "IsDeleted", "LeadId", "Field", "OldValue", "NewValue", "CreatedDate"),
    "Contact": ("Id", "IsDeleted", "MasterRecordId", "CreatedDate", "SystemModstamp", "Email", "AccountId",
                "LeadSource", "OwnerId"),
    "Opportunity": ("Id", "IsDeleted", "CreatedDate", "SystemModstamp", "AccountId", "Amount", "CurrencyIsoCode",
                    "CloseDate", "IsClosed", "IsWon", "StageName", "LeadSource", "CampaignId", "OwnerId"),
    "OpportunityHistory": ("Id", "IsDeleted", "OpportunityId", "StageName", "CreatedDate"),
    "OpportunityContactRole": ("Id", "IsDeleted", "OpportunityId", "ContactId", "IsPrimary", "Role",
                               "CreatedDate", "SystemModstamp"),
    "Task": ("Id", "IsDeleted", "WhoId", "ActivityDate", "CreatedDate", "SystemModstamp", "Type", "TaskSubtype",
             "Status", "OwnerId"),
    "Event": ("Id", "IsDeleted", "WhoId", "ActivityDateTime", "ActivityDate", "CreatedDate", "SystemModstamp",
              "Type", "EventSubtype", "OwnerId"),
    "Campaign": ("Id", "IsDeleted", "Name", "Type", "Status", "StartDate", "CreatedDate", "SystemModstamp"),
    "CampaignMember": ("Id", "IsDeleted", "CampaignId", "LeadId", "ContactId", "Status", "HasResponded",
                       "FirstRespondedDate", "CreatedDate", "SystemModstamp"),
}


def condition(name: str) -> str:
    """The object's fixed WHERE condition (LeadHistory: status changes only), '' when none."""
    return _SPECS[name][2]


def available(name: str, described: set[str]) -> tuple[str, ...]:
    """The object's requested fields the org has (a relationship field when its Id field exists)."""
    out = []
    for f in FIELDS[name]:
        base = f.split(".", 1)[0] + "Id" if "." in f else f
        if base in described:
            out.append(f)
    return tuple(out)
