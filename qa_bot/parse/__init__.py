"""Parsers of the concepts several stages read in text, one implementation each: drug and condition names
(``names``), comparison signs and thresholds (``comparison``), ages and populations (``population``), and text
addressed to a model (``injection``). They sit at the bottom of the import graph: the standard library only."""
