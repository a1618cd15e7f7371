"""The chapters in a learner's home: copied at the first spawn, topped up at every later one, and never
overwritten.

``sync_chapters(folder)`` runs as the hub's ``pre_spawn_hook`` (jupyterhub_config.py), in the hub's process:

* a chapter the learner does not have is copied in (the first spawn copies them all);
* a chapter whose shipped version changed since it was copied is *not* overwritten: the new version is
  written beside it as ``NAME.new.ipynb`` (replacing an older ``.new`` file, which is ours), so the
  learner's edits survive and the new text is one click away;
* a chapter the learner deleted stays deleted.

What was shipped is remembered in ``FOLDER/.adnb-shipped.json`` (name -> sha256 of the shipped file), so a
learner's own edits never look like a new version.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

RECORD = ".adnb-shipped.json"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sync_chapters(folder, chapters=None) -> dict:
    """Bring ``folder`` up to date with the shipped chapters (``chapters``: paths, by default
    ``autodiff_nb``'s own). Returns what happened: ``{"copied": [...], "new": [...], "kept": [...]}``."""
    if chapters is None:
        from autodiff_nb.__main__ import shipped_chapters

        chapters = shipped_chapters()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    record_path = folder / RECORD
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    done = {"copied": [], "new": [], "kept": []}
    for chapter in chapters:
        chapter = Path(str(chapter))
        data = chapter.read_bytes()
        digest = _sha(data)
        target = folder / chapter.name
        if chapter.name not in record:
            if target.exists():  # there before us (copied by hand): keep it, offer ours beside it if different
                if _sha(target.read_bytes()) != digest:
                    _write_new(target, data)
                    done["new"].append(chapter.name)
                else:
                    done["kept"].append(chapter.name)
            else:
                target.write_bytes(data)
                done["copied"].append(chapter.name)
            record[chapter.name] = digest
        elif record[chapter.name] != digest:  # a new version since the learner got theirs
            if target.exists():
                _write_new(target, data)
                done["new"].append(chapter.name)
            record[chapter.name] = digest
        else:
            done["kept"].append(chapter.name)
    tmp = record_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(record_path)
    return done


def _write_new(target: Path, data: bytes) -> None:
    (target.parent / (target.name[: -len(".ipynb")] + ".new.ipynb")).write_bytes(data)
