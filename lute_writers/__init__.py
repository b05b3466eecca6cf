"""What writes LUTE-shaped results: the status journal, the Executor hook and its launcher,
LUTE's two database layouts, and summary pages.  The dashboard never imports these to
serve (it only reads); the demo, ``lute-dashboard emit`` and the tests do."""
