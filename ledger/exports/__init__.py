"""Exports of a cooperative's books for tools this project did not write: the FEC file the French
tax administration asks for (fec.py) and a plain-text journal hledger and ledger-cli read
(plaintext.py). Both read the stored events themselves (books.py), not the projections, so an
export checks the views as much as it relies on the store."""
