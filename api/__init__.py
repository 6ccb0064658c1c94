"""The outside: the command line now, the HTTP API and the observatory later."""
