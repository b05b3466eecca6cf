"""The ``panel serve`` app: views of the shared ``lute_model`` state, and the server routes."""
