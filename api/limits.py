"""What one request may carry, in one place for the two layers that enforce it: the access log
refuses a declared body past MAX_BODY_BYTES before anything else runs (api/access_log.py, wired by
api/app.py); the JSON guard bounds a streamed body and its nesting as it reads them (api/errors.py)."""

MAX_BODY_BYTES = 1_000_000  # a 1,000-command batch fits; anything larger is refused before parsing
MAX_JSON_DEPTH = 32  # commands nest 3 or 4 levels; deeper is an attack on the parser, not a command
