"""ikaros: prognostic-biomarker survival analysis for multiple myeloma."""

__version__ = "0.1.0"
