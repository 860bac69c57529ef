"""Rebuild the bundled corpus from the shared public data set (maintainers only; the app never needs it).

    python corpus/convert_shared.py ../shared/data/corpus ../shared/seeds

Writes one Markdown file per document with YAML front matter, grouped by collection
(``corpus/<collection>/[<source>/]<id>.md``). Every id, section id, title, URL, source, date and
licence is kept; MedQuAD section offsets are kept relative to the Markdown body.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
FIELDS = ("id", "title", "collection", "doc_type", "source", "url", "published", "license")


def write_doc(rec: dict, out: Path) -> None:
    text = rec["text"]
    body = text.strip()
    lead = len(text) - len(text.lstrip())
    meta = {k: rec.get(k) for k in FIELDS if rec.get(k) is not None}
    if rec.get("sections"):
        meta["sections"] = []
        for s in rec["sections"]:
            start, end = s["start"] - lead, min(s["end"] - lead, len(body))
            assert body[start:end] == text[s["start"]:s["end"]][: end - start], rec["id"]
            meta["sections"].append({"id": s["id"], "heading": s["heading"], "qtype": s.get("qtype"),
                                     "start": start, "end": end})
    out.parent.mkdir(parents=True, exist_ok=True)
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000)
    out.write_text(f"---\n{head}---\n{body}\n", encoding="utf-8")


def main(data_dir: Path, seeds_dir: Path) -> None:
    n = 0
    for f in sorted(data_dir.glob("*.jsonl")):
        for line in f.open(encoding="utf-8"):
            rec = json.loads(line)
            sub = HERE / rec["collection"]
            if rec["collection"] == "medquad":
                sub = sub / rec["source"].split()[0].replace("/", "_")
            write_doc(rec, sub / f"{rec['id']}.md")
            n += 1
    (HERE / "seeds").mkdir(exist_ok=True)
    for seed in sorted(seeds_dir.glob("*.txt")):
        shutil.copyfile(seed, HERE / "seeds" / seed.name)
        n += 1
    print(f"wrote {n} documents under {HERE}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
