#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target (Sources/OmnifinFuzz) into a folder per target.

    python3 scripts/fuzz-seeds.py OUT_DIR SHARED_DATA_DIR

Small, valid inputs of each format (plus a few broken ones) from which libFuzzer mutates; the index snapshots are
written by `omnifin-fuzz seed-snapshot` (scripts/fuzz.sh).
"""

from __future__ import annotations

import io
import json
import struct
import sys
import wave
from pathlib import Path


def write(folder: Path, name: str, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def wav(rate: int, channels: int, width: int, frames: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        sample = bytes(range(width)) * channels
        out.writeframes(sample * frames)
    return buffer.getvalue()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out, shared = Path(argv[0]), Path(argv[1])

    recording = out / "recording"
    write(recording, "mono16.wav", wav(16000, 1, 2, 800))
    write(recording, "stereo8.wav", wav(8000, 2, 1, 400))
    write(recording, "mono24.wav", wav(44100, 1, 3, 300))
    form = (b"--omnifin-fuzz\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"q.wav\"\r\n"
            b"Content-Type: audio/wav\r\n\r\n" + wav(16000, 1, 2, 200) + b"\r\n--omnifin-fuzz\r\n"
            b"Content-Disposition: form-data; name=\"conversation_id\"\r\n\r\nabc\r\n--omnifin-fuzz--\r\n")
    write(recording, "multipart.bin", form)
    write(recording, "truncated.wav", wav(16000, 1, 2, 100)[:30])

    vectors = out / "vectors"
    write(vectors, "two.fvecs", b"".join(struct.pack("<i4f", 4, 0.1, 0.2, 0.3, 0.4) for _ in range(2)))
    write(vectors, "two.ivecs", b"".join(struct.pack("<i3i", 3, 1, 2, 3) for _ in range(2)))
    write(vectors, "bad-dimension.fvecs", struct.pack("<i", -5) + b"\0" * 8)

    header = json.dumps({"embeddings.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
                         "__metadata__": {"format": "pt"}}).encode()
    write(out / "safetensors", "small.safetensors", struct.pack("<Q", len(header)) + header + b"\0" * 16)
    write(out / "safetensors", "huge-length.safetensors", struct.pack("<Q", 2**62) + b"{}")

    bodies = [
        {"email": "a@example.com", "password": "a long passphrase", "display_name": "A"},
        {"email": "a@example.com", "password": "x", "use_cookie": True},
        {"message": "What is the approval limit?", "conversation_id": "c1"},
        {"message_id": "m1", "rating": 1, "comment": "good"},
        {"title": "T", "body": "B", "access": ["role:editor", "group:finance"], "tags": ["x"], "kind": "record",
         "metadata": {"k": "v"}, "source": "crm", "external_id": "A/1"},
        {"email": "b@example.com", "password": "another passphrase", "role": "editor", "groups": ["g"]},
        {"role": "admin", "disabled": True, "display_name": "B", "groups": []},
        {"name": "answer", "text": "Answer {{question}} from {{context}}", "activate": True},
        {"kind": "ui.copy_answer", "data": {"message_id": "m1"}},
        {"display_name": "C", "current_password": "old one", "new_password": "a new passphrase"},
    ]
    for i, body in enumerate(bodies):
        write(out / "json", f"body-{i}.json", json.dumps(body).encode())
    write(out / "json", "nested.json", b"[" * 64 + b"]" * 64)

    prompts = ["Use {{context}} to answer {{question}}.\n{{history}}", "{{question}}", "{{ unknown }}", "{{{{x}}}} {{", ""]
    for i, text in enumerate(prompts):
        write(out / "prompt", f"prompt-{i}.txt", text.encode())

    # Model answers: the citation formats real models write, around numbers and list items.
    answers = [
        "Invoices up to 10,000 EUR are approved by the budget owner [1]. Above that the finance controller approves [1][2].",
        "The budget owner approves 【1†source】. Payment runs are on Tuesdays (2). See [Source: Payment runs] and Source 3.",
        "Steps:\n(1) Register the invoice [1-3].\n(2) Approve it [^2]. [Passage 4] [doc5] [Sources 1 and 2] [1, 7]",
        "€25k, 25.000 EUR, twenty-five thousand euros, 3 % and 1.5 per cent [2]. [ [ ] ] 【 【】 (( )) [999999999999999999999]",
    ]
    # Long runs of white space after an opening mark: a backtracking pattern would take minutes on these.
    answers += ["(" + " " * 8000, "[" + " \n" * 4000, "Source" + " " * 8000 + "x", "word" + " " * 8000 + "[1]", "a" + " " * 8000 + "(1"]
    for i, text in enumerate(answers):
        write(out / "answer", f"answer-{i}.txt", text.encode())

    # Export readers: the first byte picks the format (see FuzzTarget.export), then a small real sample.
    formats = ["salesforce-json", "salesforce-csv", "erpnext", "odoo", "northwind-sql", "jsonl", "markdown", "html", "text"]
    samples = {
        "salesforce-json": b'{"records": [{"attributes": {"type": "Account", "referenceId": "AccountRef1"}, "Name": "Acme"}]}',
        "salesforce-csv": b'"Id","Name","Industry"\n"001","Acme","Energy"\n"002","Globex",""\n',
        "erpnext": b'[{"doctype": "Customer", "name": "C-1", "customer_name": "Acme", "territory": "All"}]',
        "odoo": b'<odoo><record id="p1" model="res.partner"><field name="name">Acme</field><field name="active" eval="True"/></record></odoo>',
        "northwind-sql": (b"CREATE TABLE customers (customer_id text, company_name text);\n"
                          b"COPY customers (customer_id, company_name) FROM stdin;\nALFKI\tAlfreds\n\\.\n"),
        "jsonl": b'{"id": "1", "title": "T", "body": "B"}\n{"id": "2", "title": "U"}\nnot json\n',
        "markdown": b"---\ntitle: Policy\naccess: [role:editor]\n---\n# Policy\n\nInvoices above 10,000 EUR need two approvals.\n",
        "html": b"<html><head><title>Policy</title></head><body><h1>Policy</h1><p>Two <b>approvals</b>.</p></body></html>",
        "text": b"Plain text about payment runs.\n",
    }
    for i, name in enumerate(formats):
        write(out / "export", f"{name}.bin", bytes([i]) + samples[name])
    real = shared / "crm_erp"
    if real.is_dir():
        for i, name in enumerate(formats):
            pattern = {"salesforce-json": "*.json", "salesforce-csv": "*.csv", "erpnext": "*.json", "odoo": "*.xml",
                       "northwind-sql": "*.sql"}.get(name)
            if not pattern:
                continue
            for path in sorted(real.rglob(pattern))[:2]:
                write(out / "export", f"{name}-{path.stem}.bin", bytes([i]) + path.read_bytes()[:6000])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
