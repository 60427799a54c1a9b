"""Final training and export: retrain the best architecture, write it in deployable formats."""

from rlnas.export.files import ExportedModel, export_model
from rlnas.export.final_training import FinalModel, train_final
from rlnas.export.raw_units import RawUnitsModel
from rlnas.export.source import ExportError, standalone_source

__all__ = [
    "ExportError",
    "ExportedModel",
    "FinalModel",
    "RawUnitsModel",
    "export_model",
    "standalone_source",
    "train_final",
]
