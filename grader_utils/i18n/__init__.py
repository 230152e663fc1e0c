"""The course in more than one language: the one door to the translation machinery.

:mod:`.runtime` looks messages up in gettext catalogs (``tr``, ``N_``, the language of a kernel or of
a grading run); :mod:`.catalogs` extracts what is translatable (the grader's messages from the code,
the lessons' Markdown from ``source/``), refreshes the ``.po`` catalogs and checks them; building an
edition's notebooks from them is :mod:`grader_utils.instructor.editions`. docs/translating.md.
"""

from .runtime import N_, language, localize, tr, using_language

__all__ = ["N_", "language", "localize", "tr", "using_language"]
