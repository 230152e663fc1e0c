"""The grade exports under the names nbgrader is given (stable: documented and used in configs)::

    nbgrader export --exporter=grader_utils.exporters.CanvasExporter --to=canvas.csv

The exporters live in :mod:`grader_utils.instructor.exporters`.
"""

from .instructor.exporters import CanvasExporter, ExerciseCsvExporter, GradesCsvExporter, MoodleExporter, export

__all__ = ["ExerciseCsvExporter", "GradesCsvExporter", "CanvasExporter", "MoodleExporter", "export"]
