"""Finding entries in the compiled store: by name (names) and by what the cards say (fulltext)."""
