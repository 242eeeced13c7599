"""Publication-ready study report: figures, tables, REMARK profile, HTML and PDF.

The report renders a results file; it computes no statistics of its own.
"""
