"""Build step that puts the chapter notebooks inside the wheel.

Everything about the package is declared in pyproject.toml; this file only adds one step to
setuptools' ``build_py``. The notebooks live in one real place, the top-level ``chapters/`` folder
(``make lab``, pytest and nbval read them there). When a wheel is built they are copied into
``autodiff_nb/data/chapters/`` inside it, where ``python -m autodiff_nb chapters DIR`` finds them.

An editable install (``pip install -e .``) copies nothing: ``autodiff_nb/__main__.py`` then reads
the repository's ``chapters/`` folder directly.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import FileError

CHAPTERS = Path(__file__).resolve().parent / "chapters"


class build_py_with_chapters(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # the editable package reads chapters/ where it is
            return
        notebooks = sorted(CHAPTERS.glob("*.ipynb"))
        if not notebooks:
            raise FileError(f"no chapter notebooks in {CHAPTERS}; the wheel must carry them")
        target = Path(self.build_lib) / "autodiff_nb" / "data" / "chapters"
        shutil.rmtree(target, ignore_errors=True)  # no notebook left over from an earlier build
        target.mkdir(parents=True)
        for notebook in notebooks:
            self.copy_file(str(notebook), str(target / notebook.name))


setup(cmdclass={"build_py": build_py_with_chapters})
