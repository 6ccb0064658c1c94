"""The `coopledger` command line (click, rich tables, JSON with --json): `cli.main` is the entry
point. It may use the HTTP API's modules (`serve` starts it); api/ never imports this package."""
