"""Command line: ``python -m autodiff_nb chapters DIR`` and ``python -m autodiff_nb nbval-sanitize``.

``chapters DIR`` copies the chapter notebooks into DIR, so a student gets them without cloning the
repository; it never overwrites a file unless given ``--force``. ``chapters DIR --student`` writes the
student edition instead: the answers of the exercises replaced by nbgrader's stubs, every output
cleared (``autodiff_nb.student``; it needs the ``teacher`` extra, nbgrader). An installed wheel carries them in
``autodiff_nb/data/chapters/`` (setup.py copies them in at build time). An editable install
(``pip install -e .``) carries no copy: the package then lives in a checkout, and the notebooks are the
checkout's top-level ``chapters/`` folder, next to ``pyproject.toml``.

``nbval-sanitize`` prints the path of the nbval sanitize file shipped with the package, for course
authors who validate their own notebooks::

    pytest --nbval --nbval-sanitize-with "$(python -m autodiff_nb nbval-sanitize)" notebooks/
"""
from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

PACKAGE = "autodiff_nb"


def chapter_folders():
    """Where the chapters may be, in the order they are looked for.

    First the copy inside the package (an installed wheel). Then, when the package is the
    ``autodiff_nb/`` folder of a checkout (an editable install), the checkout's ``chapters/``: the
    folder beside the package, recognised by the ``pyproject.toml`` beside it too.
    """
    folders = [resources.files(PACKAGE) / "data" / "chapters"]
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file():
        folders.append(checkout / "chapters")
    return folders


def shipped_chapters():
    """The chapter notebooks of the first folder of ``chapter_folders()`` that holds any, sorted by name."""
    for folder in chapter_folders():
        if not folder.is_dir():
            continue
        notebooks = [item for item in folder.iterdir() if item.name.endswith(".ipynb") and item.is_file()]
        if notebooks:
            return sorted(notebooks, key=lambda item: item.name)
    return []


def copy_chapters(destination: Path, force: bool = False, out=None, err=None, student: bool = False) -> int:
    """Copy every shipped chapter into ``destination`` (``student``: their student editions); return
    the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    if student:
        from .student import NbgraderMissing, require_nbgrader

        try:
            require_nbgrader()
        except NbgraderMissing as error:
            print(f"error: --student: {error}\nNothing was written.", file=err)
            return 1
    chapters = shipped_chapters()
    if not chapters:
        looked = "\n".join(f"  {folder}" for folder in chapter_folders())
        print(f"error: this installation of {PACKAGE} carries no chapter notebooks. Looked in:\n{looked}\n"
              f"Reinstall the package (pip install --force-reinstall {PACKAGE}), or, in a checkout of the "
              "repository, restore its chapters/ folder (git checkout -- chapters).", file=err)
        return 1
    if destination.exists() and not destination.is_dir():
        print(f"error: {destination} exists and is not a folder; give a folder to copy the chapters into.",
              file=err)
        return 1
    clashes = [c.name for c in chapters if (destination / c.name).exists()]
    if clashes and not force:
        print(f"error: refusing to overwrite {len(clashes)} existing file{'s' * (len(clashes) != 1)} in "
              f"{destination}: {', '.join(clashes)}\n"
              "Nothing was copied. Pass --force to replace them (your edits in them will be lost), "
              "or choose another folder.", file=err)
        return 1
    destination.mkdir(parents=True, exist_ok=True)
    for chapter in chapters:
        target = destination / chapter.name
        verb = "replaced" if target.exists() else "copied"
        if student:
            verb = "replaced" if target.exists() else "wrote"
            target.write_text(_student_text(chapter), encoding="utf-8")
            print(f"{verb} {target} (student edition)", file=out)
            continue
        target.write_bytes(chapter.read_bytes())
        print(f"{verb} {target}", file=out)
    print(f"\n{len(chapters)} chapter notebook{'s' * (len(chapters) != 1)} in {destination}. "
          f"Open them with:  jupyter lab {destination}", file=out)
    return 0


def _student_text(chapter) -> str:
    """The student edition of one chapter notebook, as the text of an .ipynb file."""
    import nbformat

    from .student import student_edition

    edition, _ = student_edition(nbformat.reads(chapter.read_text(encoding="utf-8"), as_version=4))
    return nbformat.writes(edition) + "\n"


def sanitize_file_path() -> Path:
    """Where the shipped nbval sanitize file lies on disk."""
    resource = resources.files(PACKAGE) / "data" / "nbval_sanitize.cfg"
    if not resource.is_file():
        raise FileNotFoundError(f"{PACKAGE} was installed without data/nbval_sanitize.cfg; reinstall it.")
    return Path(str(resource))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {PACKAGE}",
        description="Tools for the autodiff_nb chapters and for notebooks written with autodiff_nb.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chapters = commands.add_parser(
        "chapters", help="copy the chapter notebooks into a folder",
        description="Copy the chapter notebooks shipped with the package into DIR (created if needed).")
    chapters.add_argument("directory", metavar="DIR", type=Path, help="folder to copy the notebooks into")
    chapters.add_argument("--force", action="store_true", help="replace notebooks that already exist in DIR")
    chapters.add_argument("--student", action="store_true",
                          help="write the student edition: answers replaced by nbgrader's stubs, outputs "
                               "cleared (needs nbgrader: pip install 'autodiff_nb[teacher]')")
    commands.add_parser(
        "nbval-sanitize", help="print the path of the nbval sanitize file shipped with the package",
        description="Print the path of the shipped nbval sanitize file, for "
                    "pytest --nbval --nbval-sanitize-with PATH.")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:  # the full help, which lists the commands, rather than "arguments are required"
        parser.print_help(sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if args.command == "chapters":
        return copy_chapters(args.directory, force=args.force, student=args.student)
    if args.command == "nbval-sanitize":
        try:
            print(sanitize_file_path())
        except FileNotFoundError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        return 0
    return 2  # argparse refuses unknown commands before this


if __name__ == "__main__":
    sys.exit(main())
