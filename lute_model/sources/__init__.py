"""Readers of the files LUTE leaves on disk.  Each reads incrementally and never writes."""
