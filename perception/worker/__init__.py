"""`flask worker`: every periodic job in one process, safe on several machines at once."""
