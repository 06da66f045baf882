"""ContentVersion's side effects: a ContentDocument per file, and a link to its record."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from sf_emulator import ids, values

if TYPE_CHECKING:
    from sf_emulator.dml.writer import Writer


def prepare_version(writer: Writer, record: dict[str, Any]) -> None:
    """Fill the fields Salesforce derives when a file is uploaded."""
    path = str(record.get("PathOnClient") or "")
    record.setdefault("Title", path.rsplit("/", 1)[-1].rsplit(".", 1)[0] or path)
    if not record.get("Title"):
        record["Title"] = path
    record["FileExtension"] = path.rsplit(".", 1)[-1].lower() if "." in path else None
    record["ContentSize"] = len(base64.b64decode(str(record.get("VersionData") or "")))
    record["IsLatest"] = True
    record["VersionNumber"] = "1"
    record["ContentDocumentId"] = ids.new_id("069")


def publish_version(writer: Writer, version: dict[str, Any]) -> None:
    """Create the ContentDocument and, for FirstPublishLocationId, its ContentDocumentLink."""
    catalog = writer.org.catalog
    stamp = values.now()
    system = {
        "IsDeleted": False,
        "CreatedDate": stamp,
        "CreatedById": writer.user_id,
        "LastModifiedDate": stamp,
        "LastModifiedById": writer.user_id,
        "SystemModstamp": stamp,
    }
    document = {
        "Id": version["ContentDocumentId"],
        **system,
        "OwnerId": writer.user_id,
        "Title": version["Title"],
        "LatestPublishedVersionId": version["Id"],
        "FileExtension": version["FileExtension"],
        "ContentSize": version["ContentSize"],
    }
    writer.store.records.insert(writer.org.id, catalog.objects["contentdocument"], document)
    target = version.get("FirstPublishLocationId")
    if target:
        link = {
            "Id": ids.new_id("06A"),
            "IsDeleted": False,
            "SystemModstamp": stamp,
            "ContentDocumentId": document["Id"],
            "LinkedEntityId": target,
            "ShareType": "I",
            "Visibility": "AllUsers",
        }
        writer.store.records.insert(writer.org.id, catalog.objects["contentdocumentlink"], link)
