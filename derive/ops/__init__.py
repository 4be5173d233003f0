"""The operations networks are built from; each module holds one family."""
