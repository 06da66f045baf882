"""Files: ContentVersion (an upload), ContentDocument (the file), ContentDocumentLink
(the file shared with a record), as chat transcripts and attachments use them."""

from __future__ import annotations

from sf_emulator.schema.fields import (
    FieldDef,
    ObjectDef,
    long_text,
    make_object,
    picklist,
    read_only,
    ref,
    system_fields,
    text,
)

FILE_PARENTS = (
    "Account",
    "Asset",
    "Campaign",
    "Case",
    "CollaborationGroup",
    "Contact",
    "ContentWorkspace",
    "Contract",
    "EmailMessage",
    "Event",
    "Lead",
    "Opportunity",
    "Order",
    "Product2",
    "Quote",
    "Solution",
    "Task",
    "User",
    "WorkOrder",
)
"""What a file can be published on or linked to: any record with a feed, activities
included [S13]. Salesforce's lists are longer still (and take custom objects); only the
objects the emulator has can hold records."""


def content_objects() -> list[ObjectDef]:
    version = make_object(
        "ContentVersion",
        "068",
        "Content Versions",
        [
            *system_fields(),
            text("Title", 255, nillable=False, defaulted_on_create=True),
            text("PathOnClient", 500, nillable=False),
            long_text("Description", 1000),
            FieldDef("VersionData", "base64", nillable=False),
            read_only(ref("ContentDocumentId", "ContentDocument", defaulted_on_create=True)),
            ref(
                "FirstPublishLocationId",
                *FILE_PARENTS,
                updateable=False,
                relationship_name="FirstPublishLocation",
            ),
            read_only(text("FileExtension", 40)),
            read_only(FieldDef("ContentSize", "int")),
            read_only(FieldDef("IsLatest", "boolean", nillable=False, defaulted_on_create=True)),
            read_only(text("VersionNumber", 20)),
        ],
        deletable=False,
    )
    document = make_object(
        "ContentDocument",
        "069",
        "Content Documents",
        [
            *system_fields(),
            text("Title", 255, nillable=False),
            read_only(ref("LatestPublishedVersionId", "ContentVersion")),
            read_only(text("FileExtension", 40)),
            read_only(FieldDef("ContentSize", "int")),
        ],
        createable=False,
    )
    link = make_object(
        "ContentDocumentLink",
        "06A",
        "Content Document Links",
        [
            *system_fields(None)[:1],
            ref(
                "ContentDocumentId",
                "ContentDocument",
                nillable=False,
                updateable=False,
                indexed=True,
            ),
            ref(
                "LinkedEntityId",
                *FILE_PARENTS,
                nillable=False,
                updateable=False,
                indexed=True,
            ),
            picklist("ShareType", ("V", "C", "I"), default="V", nillable=False, restricted=True),
            picklist(
                "Visibility", ("AllUsers", "InternalUsers"), default="AllUsers", nillable=False
            ),
        ],
        updateable=False,
    )
    return [version, document, link]
