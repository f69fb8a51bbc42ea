#!/usr/bin/env python3
"""Writes Coral Cloud's 992 contacts (../shared/data/crm_erp/salesforce_coral_cloud) as a Salesforce Data Loader CSV:
an `Id` column of 18-character Contact ids (key prefix 003) and API field names, as a weekly export would give them.
`--change N` gives the first N contacts (every 7th one) a new mailing city, `--drop M` leaves out M contacts (every
11th from the end): the next week's export, for trying a re-export cycle:

    scripts/coral-contacts-csv.py > /tmp/Contact-export-1.csv
    scripts/coral-contacts-csv.py --change 10 --drop 5 > /tmp/Contact-export-2.csv
    omnifin ingest /tmp/Contact-export-1.csv --source crm --prune
    omnifin ingest /tmp/Contact-export-2.csv --source crm --prune --dry-run
"""
import argparse
import csv
import json
import sys
from pathlib import Path

COLUMNS = ["Id", "FirstName", "LastName", "Email", "MobilePhone", "MailingCity", "MailingState", "MailingCountry", "LeadSource",
           "Guest_Type__c", "Preferred_Name__c"]
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def eighteen(id15):
    """The 18-character form of a 15-character Salesforce id: its case checksum appended."""
    suffix = ""
    for block in range(3):
        bits = sum(1 << i for i, c in enumerate(id15[block * 5:block * 5 + 5]) if "A" <= c <= "Z")
        suffix += ALPHABET[bits]
    return id15 + suffix


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--change", type=int, default=0, help="contacts whose mailing city changes (every 7th)")
    parser.add_argument("--drop", type=int, default=0, help="contacts left out (every 11th from the end)")
    parser.add_argument("--data", default=str(Path(__file__).resolve().parent.parent.parent / "shared/data/crm_erp/salesforce_coral_cloud"))
    args = parser.parse_args()
    records = json.loads((Path(args.data) / "data-Contact-large.json").read_text())["records"]
    changed = set(range(0, len(records), 7)[:args.change])
    dropped = set(range(len(records) - 1, -1, -11)[:args.drop])  # from the end: never one of the changed ones
    writer = csv.writer(sys.stdout, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(COLUMNS)
    for index, record in enumerate(records):
        if index in dropped:
            continue
        row = {column: record.get(column) or "" for column in COLUMNS}
        row["Id"] = eighteen("0035g00000" + f"{index:05d}")
        if index in changed:
            row["MailingCity"] = "Reykjavík"
        writer.writerow([row[column] for column in COLUMNS])


if __name__ == "__main__":
    main()
